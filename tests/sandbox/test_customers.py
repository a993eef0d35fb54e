"""A customer's message reaches Waco as a signed webhook shaped like Meta's."""

import base64
import json

import pytest

from tests.support.sandbox_graph import customer_says
from tests.support.sandbox_shop import CATALOG_ID, CUSTOMER, DISPLAY_NUMBER, PHONE_NUMBER_ID, TOKEN, WABA_ID
from waco.sandbox.models import Delivery, InboundMessage, Media, ServiceWindow
from waco.sandbox.services import deliveries_flush, sandbox_seed

pytestmark = pytest.mark.usefixtures("number")


def _post(client, payload, raw=None):
    data = raw if raw is not None else json.dumps(payload)
    return client.post("/sandbox/customer/messages", data=data, content_type="application/json")


def test_customer_message_arrives_signed_as_a_meta_envelope(client, receiver):
    response = _post(client, {"from": CUSTOMER, "name": "Ada", "message": {"type": "text", "text": {"body": "menu"}}})
    assert response.status_code == 200
    wamid = response.json()["id"]
    assert wamid.startswith("wamid.")
    assert deliveries_flush() == 1
    assert receiver.bad_signatures == 0
    [body] = receiver.bodies
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == WABA_ID
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
    assert value["contacts"] == [{"profile": {"name": "Ada"}, "wa_id": CUSTOMER}]
    [message] = value["messages"]
    assert message["from"] == CUSTOMER and message["id"] == wamid and message["type"] == "text"
    assert message["timestamp"].isdigit()
    assert message["text"] == {"body": "menu"}


def test_customer_message_opens_the_sandbox_window(client):
    customer_says(client)
    window = ServiceWindow.objects.get(wa_id=CUSTOMER)
    assert window.number.phone_number_id == PHONE_NUMBER_ID and window.name == "Ada"


@pytest.mark.parametrize(
    "message",
    [
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "add:SKU1", "title": "Add"}},
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "p:SKU2", "title": "Burger", "description": "Big"},
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {"response_json": "{}", "body": "Sent", "name": "flow"},
            },
        },
        {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}},
        {"type": "location", "location": {"latitude": 52.5, "longitude": 13.4}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Bob"}}]},
        {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "❤️"}},
        {
            "type": "text",
            "text": {"body": "this one?"},
            "context": {"from": DISPLAY_NUMBER, "id": "wamid.prev"},
        },
    ],
    ids=[
        "button_reply",
        "list_reply",
        "nfm_reply",
        "quick_reply",
        "location",
        "contacts",
        "reaction",
        "reply-context",
    ],
)
def test_each_inbound_type_is_wrapped_as_sent(client, receiver, message):
    assert _post(client, {"from": CUSTOMER, "name": "Ada", "message": message}).status_code == 200
    deliveries_flush()
    [delivered] = receiver.messages()
    kind = message["type"]
    assert delivered["type"] == kind and delivered[kind] == message[kind]
    assert delivered.get("context") == message.get("context")


def test_order_message_carries_the_business_catalog(client, receiver):
    items = [{"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"}]
    _post(
        client,
        {"from": CUSTOMER, "name": "Ada", "message": {"type": "order", "order": {"product_items": items}}},
    )
    deliveries_flush()
    [message] = receiver.messages()
    assert message["order"] == {"catalog_id": CATALOG_ID, "text": "", "product_items": items}


def _download(client, graph, media_id):
    described = graph.get(media_id).json()
    assert set(described) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    return described, client.get(described["url"], HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_customer_image_bytes_are_downloadable_by_waco(client, graph, receiver):
    content = b"\xff\xd8\xff\xe0 a tiny jpeg"
    payload = {
        "from": CUSTOMER,
        "name": "Ada",
        "message": {"type": "image", "image": {"caption": "this one"}},
        "media_base64": base64.b64encode(content).decode(),
    }
    assert _post(client, payload).status_code == 200
    deliveries_flush()
    [message] = receiver.messages()
    assert message["image"]["caption"] == "this one" and message["image"]["mime_type"] == "image/jpeg"
    described, download = _download(client, graph, message["image"]["id"])
    assert described["file_size"] == len(content) and described["mime_type"] == "image/jpeg"
    assert download.status_code == 200 and download.content == content
    assert download["Content-Type"] == "image/jpeg"


def test_customer_image_without_bytes_gets_a_placeholder_png(client, graph, receiver):
    _post(client, {"from": CUSTOMER, "name": "Ada", "message": {"type": "image", "image": {}}})
    deliveries_flush()
    [message] = receiver.messages()
    _, download = _download(client, graph, message["image"]["id"])
    assert download.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_phone_number_id_picks_the_business_number(client, receiver):
    sandbox_seed(waba_id="2", phone_number_id="200", display_phone_number="15550000200", access_token="t2")
    _post(
        client,
        {
            "from": CUSTOMER,
            "name": "Ada",
            "phone_number_id": "200",
            "message": {"type": "text", "text": {"body": "hi"}},
        },
    )
    deliveries_flush()
    assert receiver.values()[0]["metadata"]["phone_number_id"] == "200"
    assert receiver.bodies[0]["entry"][0]["id"] == "2"


@pytest.mark.parametrize(
    "payload, raw",
    [
        (None, "{broken"),
        (None, "[1, 2]"),
        ({"name": "Ada", "message": {"type": "text", "text": {"body": "x"}}}, None),
        ({"from": CUSTOMER, "name": "Ada"}, None),
        ({"from": "not-a-number", "message": {"type": "text", "text": {"body": "x"}}}, None),
        ({"from": CUSTOMER, "message": {"type": "hologram"}}, None),
        ({"from": CUSTOMER, "message": {"type": "text", "text": {}}}, None),
        (
            {"from": CUSTOMER, "message": {"type": "order", "order": {"product_items": [{"quantity": 1}]}}},
            None,
        ),
        ({"from": CUSTOMER, "message": {"type": "image", "image": {}}, "media_base64": "***"}, None),
        (
            {"from": CUSTOMER, "message": {"type": "text", "text": {"body": "x"}}, "phone_number_id": "404"},
            None,
        ),
    ],
    ids=[
        "bad-json",
        "not-object",
        "no-from",
        "no-message",
        "bad-wa-id",
        "unknown-type",
        "no-body",
        "bad-order",
        "bad-base64",
        "unknown-number",
    ],
)
def test_invalid_customer_request_is_400_and_stores_nothing(client, payload, raw):
    response = _post(client, payload, raw=raw)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert not Delivery.objects.exists()
    assert not InboundMessage.objects.exists() and not ServiceWindow.objects.exists() and not Media.objects.exists()
