"""Accepted sends: Meta's success shape, the outbox, and the statuses that follow."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.sandbox_graph import customer_says
from tests.support.sandbox_shop import CATALOG_ID, CUSTOMER, DISPLAY_NUMBER, PHONE_NUMBER_ID, WABA_ID
from waco.sandbox.models import InboundMessage
from waco.sandbox.services import config_update, deliveries_flush

pytestmark = pytest.mark.usefixtures("number")

ALL_STATUSES = 5.0  # seconds: past the default delivered and read delays


def _send(kind, content, **extra):
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": kind,
        kind: content,
        **extra,
    }


def _interactive(kind, action, **extra):
    return _send("interactive", {"type": kind, "body": {"text": "Body"}, "action": action, **extra})


VALID_SENDS = {
    "text": _send("text", {"body": "Hello", "preview_url": False}),
    "image-link": _send("image", {"link": "https://cdn.example/a.png", "caption": "A"}),
    "video-link": _send("video", {"link": "https://cdn.example/a.mp4"}),
    "audio-link": _send("audio", {"link": "https://cdn.example/a.ogg"}),
    "document-link": _send("document", {"link": "https://cdn.example/a.pdf", "filename": "a.pdf"}),
    "sticker-link": _send("sticker", {"link": "https://cdn.example/a.webp"}),
    "location": _send("location", {"latitude": 52.52, "longitude": 13.40, "name": "Shop"}),
    "contacts": _send("contacts", [{"name": {"formatted_name": "Ada Lovelace", "first_name": "Ada"}}]),
    "reaction": _send("reaction", {"message_id": "wamid.abc", "emoji": "👍"}),
    "button": _interactive(
        "button",
        {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Choice {i}"}} for i in range(3)]},
    ),
    "list": _interactive(
        "list",
        {
            "button": "Menu",
            "sections": [
                {
                    "title": "Mains",
                    "rows": [{"id": f"m{i}", "title": f"Main {i}", "description": "Tasty"} for i in range(5)],
                },
                {"title": "Drinks", "rows": [{"id": f"d{i}", "title": f"Drink {i}"} for i in range(5)]},
            ],
        },
    ),
    "product": _send(
        "interactive",
        {"type": "product", "action": {"catalog_id": CATALOG_ID, "product_retailer_id": "SKU1"}},
    ),
    "product_list": _interactive(
        "product_list",
        {
            "catalog_id": CATALOG_ID,
            "sections": [{"title": "All", "product_items": [{"product_retailer_id": f"SKU{i}"} for i in range(30)]}],
        },
        header={"type": "text", "text": "Shop"},
    ),
    "catalog_message": _interactive(
        "catalog_message",
        {"name": "catalog_message", "parameters": {"thumbnail_product_retailer_id": "SKU1"}},
    ),
    "cta_url": _interactive(
        "cta_url",
        {"name": "cta_url", "parameters": {"display_text": "Pay now", "url": "https://pay.example/x"}},
    ),
    "flow": _interactive(
        "flow",
        {"name": "flow", "parameters": {"flow_message_version": "3", "flow_cta": "Book", "flow_id": "123"}},
    ),
}


@pytest.mark.parametrize("body", VALID_SENDS.values(), ids=VALID_SENDS.keys())
def test_every_message_type_is_accepted_with_meta_success_shape(graph, body):
    response = graph.send(body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert set(answer) == {"messaging_product", "contacts", "messages"}
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    [message] = answer["messages"]
    assert message["id"].startswith("wamid.") and message["message_status"] == "accepted"


def test_media_by_uploaded_id_is_accepted(graph, client):
    upload = client.post(
        f"/sandbox/graph/v24.0/{PHONE_NUMBER_ID}/media",
        {
            "messaging_product": "whatsapp",
            "type": "image/png",
            "file": SimpleUploadedFile("a.png", b"\x89PNG....", "image/png"),
        },
        HTTP_AUTHORIZATION="Bearer sandbox-test-token",
    )
    assert upload.status_code == 200, upload.content
    assert graph.send(_send("image", {"id": upload.json()["id"]})).status_code == 200


def test_template_send_is_accepted(graph):
    config_update(changes={"template_review_delay_seconds": 0})
    graph.post(
        f"{WABA_ID}/message_templates",
        {
            "name": "receipt",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                {"type": "BODY", "text": "Paid {{1}}"},
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"}],
                },
            ],
        },
    )
    body = _send(
        "template",
        {
            "name": "receipt",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "42"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "$10"}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": "42"}],
                },
            ],
        },
    )
    assert graph.send(body).status_code == 200


def test_mark_read_answers_success_and_marks_the_customer_message(graph, client):
    wamid = customer_says(client)
    response = graph.send(
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
            "typing_indicator": {"type": "text"},
        }
    )
    assert response.status_code == 200 and response.json() == {"success": True}
    message = InboundMessage.objects.get(wamid=wamid)
    assert message.read_at is not None and message.typing_at is not None
    listed = client.get("/sandbox/customer/messages", {"from": CUSTOMER}).json()
    assert listed[0]["id"] == wamid and listed[0]["read"] is True


def test_mark_read_of_unknown_message_is_refused_with_100(graph):
    from tests.support.sandbox_graph import assert_graph_error

    assert_graph_error(graph.send({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"}), 100)


def test_outbox_lists_bodies_as_received_with_wamid_and_latest_status(graph, client, receiver):
    customer_says(client)
    raw = (
        '{"messaging_product":"whatsapp","to":"15551234567","type":"text",'
        '"text":{"body":"first"},"biz_opaque_callback_data":"m-1"}'
    )
    first = graph.post(f"{PHONE_NUMBER_ID}/messages", None, raw=raw).json()["messages"][0]["id"]
    second = graph.text(to="15557654321", body="second").json()["messages"][0]["id"]
    items = client.get("/sandbox/graph/outbox").json()
    assert [i["wamid"] for i in items] == [first, second]
    assert {
        k: v for k, v in items[0].items() if k not in ("wamid", "status", "outbox_id", "phone_number_id")
    } == json.loads(raw)
    # "sent" is due at once; delivered and read come later.
    assert items[0]["status"] == "sent"

    deliveries_flush(horizon_seconds=ALL_STATUSES)
    items = client.get("/sandbox/graph/outbox", {"to": CUSTOMER}).json()
    assert [(i["wamid"], i["status"]) for i in items] == [(first, "read")]
    # The other recipient had no open window: free-form fails.
    assert client.get("/sandbox/graph/outbox", {"to": "15557654321"}).json()[0]["status"] == "failed"
    assert client.get("/sandbox/graph/outbox", {"since_id": items[0]["outbox_id"]}).json()[0]["wamid"] == second
    assert client.get("/sandbox/graph/outbox", {"since_id": "x"}).status_code == 400


def test_statuses_sent_delivered_read_follow_an_accepted_send_with_pricing(graph, client, receiver):
    customer_says(client)
    deliveries_flush()
    wamid = graph.text(biz_opaque_callback_data="waco-message-7").json()["messages"][0]["id"]
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert receiver.bad_signatures == 0
    statuses = [s for s in receiver.statuses() if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER
        assert status["biz_opaque_callback_data"] == "waco-message-7"
        assert status["timestamp"].isdigit()
        assert status["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
        assert "conversation" not in status
    value = receiver.values()[-1]
    assert value["metadata"] == {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
    assert receiver.bodies[-1]["entry"][0]["id"] == WABA_ID


def test_free_form_outside_the_window_is_accepted_then_fails_with_131047(graph, receiver):
    response = graph.text(to="15550000001")
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    [status] = receiver.statuses()
    assert status["id"] == wamid and status["status"] == "failed"
    [error] = status["errors"]
    assert error["code"] == 131047
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert "24 hours" in error["error_data"]["details"]


def test_free_form_after_the_window_closed_fails_with_131047(graph, client, receiver):
    import time_machine

    with time_machine.travel(1_800_000_000, tick=False):
        customer_says(client)
    with time_machine.travel(1_800_000_000 + 24 * 3600 + 1, tick=False):
        graph.text()
        deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert [s["status"] for s in receiver.statuses()] == ["failed"]


def _template(graph, name, category):
    config_update(changes={"template_review_delay_seconds": 0})
    graph.post(
        f"{WABA_ID}/message_templates",
        {
            "name": name,
            "language": "en",
            "category": category,
            "components": [{"type": "BODY", "text": "Hi"}],
        },
    )
    return _send("template", {"name": name, "language": {"code": "en"}})


def test_marketing_template_outside_the_window_is_delivered_and_billed(graph, receiver):
    graph.send(_template(graph, "spring_sale", "MARKETING"))
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    statuses = receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0]["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "marketing",
    }


def test_utility_template_inside_the_window_is_free(graph, client, receiver):
    customer_says(client)
    graph.send(_template(graph, "receipt", "UTILITY"))
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert receiver.statuses()[0]["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "utility",
    }


def test_marketing_over_the_per_user_limit_fails_with_131049(graph, receiver):
    body = _template(graph, "flash_sale", "MARKETING")
    config_update(changes={"marketing_limit_per_user": 1, "template_review_delay_seconds": 0})
    first = graph.send(body).json()["messages"][0]["id"]
    second = graph.send(body).json()["messages"][0]["id"]
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert [s["status"] for s in receiver.statuses() if s["id"] == first] == ["sent", "delivered", "read"]
    [failed] = [s for s in receiver.statuses() if s["id"] == second]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131049


def test_phone_number_fields_follow_a_configured_downgrade(graph):
    fields = "quality_rating,throughput,messaging_limit_tier,display_phone_number,verified_name"
    before = graph.get(PHONE_NUMBER_ID, {"fields": fields}).json()
    assert before == {
        "quality_rating": "GREEN",
        "throughput": {"level": "STANDARD"},
        "messaging_limit_tier": "TIER_250",
        "display_phone_number": DISPLAY_NUMBER,
        "verified_name": "Waco Demo Shop",
        "id": PHONE_NUMBER_ID,
    }
    config_update(
        changes={
            "numbers": {
                PHONE_NUMBER_ID: {
                    "quality_rating": "RED",
                    "messaging_limit_tier": "TIER_2K",
                    "messages_per_second": 1000,
                }
            }
        }
    )
    after = graph.get(PHONE_NUMBER_ID, {"fields": fields}).json()
    assert (after["quality_rating"], after["messaging_limit_tier"], after["throughput"]) == (
        "RED",
        "TIER_2K",
        {"level": "HIGH"},
    )


def test_unknown_phone_number_field_is_refused_with_100(graph):
    from tests.support.sandbox_graph import assert_graph_error

    assert_graph_error(graph.get(PHONE_NUMBER_ID, {"fields": "quality_rating,favourite_colour"}), 100)


def test_business_account_lists_its_numbers(graph):
    data = graph.get(f"{WABA_ID}/phone_numbers").json()["data"]
    assert [n["id"] for n in data] == [PHONE_NUMBER_ID]
