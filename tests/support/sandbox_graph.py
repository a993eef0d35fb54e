"""The sandbox's Meta seen through Django's test client: a customer writing in, and Meta's error shape."""

import json

from tests.support.sandbox_shop import CUSTOMER


def customer_says(client, text="hi", *, wa_id=CUSTOMER, name="Ada", **extra):
    payload = {"from": wa_id, "name": name, "message": {"type": "text", "text": {"body": text}}, **extra}
    response = client.post("/sandbox/customer/messages", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["id"]


def assert_graph_error(response, code, http_status=400):
    """Meta's error shape, exactly."""
    assert response.status_code == http_status, response.content
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str) and error["error_data"]["details"]
    assert error["fbtrace_id"]
    return error
