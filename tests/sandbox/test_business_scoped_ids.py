"""Customers known by a business-scoped user id (BSUID): a username-only customer writes
without a phone, a BSUID in `recipient` reaches them, a BSUID in `to` is dropped as Meta does."""

import json

import pytest

from tests.support.payloads import WEBHOOKS
from tests.support.sandbox_graph import assert_graph_error, customer_says
from tests.support.sandbox_shop import CUSTOMER, PHONE_NUMBER_ID
from waco.sandbox.models import Delivery, DeliveryKind
from waco.sandbox.services import deliveries_flush, deliveries_pending

pytestmark = pytest.mark.usefixtures("number")

BSUID = "US.13491208655302741918"
ALL_STATUSES = 5.0  # seconds: past the default delivered and read delays


def username_only_customer_says(client, text="hi", *, user_id=BSUID, **extra):
    payload = {
        "user_id": user_id,
        "username": "@zara",
        "name": "Zara",
        **extra,
        "message": {"type": "text", "text": {"body": text}},
    }
    response = client.post("/sandbox/customer/messages", json.dumps(payload), "application/json")
    assert response.status_code == 200, response.content
    return response.json()["id"]


def send_text(graph, **addressing):
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressing,
        "type": "text",
        "text": {"body": "Welcome"},
    }
    response = graph.send(body)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_username_only_customer_writes_with_their_bsuid_and_no_phone(client, receiver):
    username_only_customer_says(client, "hi")
    deliveries_flush()
    [value] = receiver.values()
    reference = json.loads(
        (WEBHOOKS / "whatsapp-api-js__bsuid_incoming_message_with_username_no_have_parent_bsuid.json").read_text()
    )["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Zara", "username": "@zara"}, "user_id": BSUID}]
    assert set(value["contacts"][0]) == set(reference["contacts"][0])
    [message] = value["messages"]
    assert set(message) == set(reference["messages"][0])
    assert message["from_user_id"] == BSUID and "from" not in message


def test_a_bsuid_in_recipient_is_delivered_with_statuses_naming_the_bsuid(graph, client, receiver):
    username_only_customer_says(client)
    deliveries_flush()
    answer = send_text(graph, recipient=BSUID)
    assert answer["contacts"] == [{"input": BSUID, "user_id": BSUID}]  # Meta omits wa_id here
    wamid = answer["messages"][0]["id"]
    deliveries_flush(horizon_seconds=ALL_STATUSES)

    statuses = [s for s in receiver.statuses() if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert all(s["recipient_user_id"] == BSUID and "recipient_id" not in s for s in statuses)
    [item] = client.get("/sandbox/graph/outbox", {"recipient": BSUID}).json()
    assert (item["wamid"], item["status"], item["recipient"], item["recipient_type"]) == (
        wamid,
        "read",
        BSUID,
        "individual",
    )
    assert "to" not in item


def test_a_bsuid_in_to_is_accepted_then_dropped_without_a_status(graph, client, receiver):
    username_only_customer_says(client)
    deliveries_flush()
    answer = send_text(graph, to=BSUID)
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.") and "wa_id" not in answer["contacts"][0]

    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert deliveries_pending() == 0  # drained: nothing is still on its way
    assert not Delivery.objects.filter(kind=DeliveryKind.STATUS).exists()
    assert receiver.statuses() == []
    [item] = client.get("/sandbox/graph/outbox", {"to": BSUID}).json()
    assert (item["wamid"], item["status"], item["to"]) == (wamid, "accepted", BSUID)
    assert client.get("/sandbox/graph/outbox", {"recipient": BSUID}).json() == []


def test_a_customer_with_a_phone_reached_by_bsuid_gets_statuses_with_both_ids(graph, client, receiver):
    customer_says(client, user_id=BSUID)
    deliveries_flush()
    [inbound] = receiver.messages()
    assert (inbound["from"], inbound["from_user_id"]) == (CUSTOMER, BSUID)
    wamid = send_text(graph, recipient=BSUID)["messages"][0]["id"]
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    statuses = [s for s in receiver.statuses() if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]  # the window was open
    assert all((s["recipient_id"], s["recipient_user_id"]) == (CUSTOMER, BSUID) for s in statuses)


def test_to_wins_over_recipient_when_both_are_given(graph, client, receiver):
    customer_says(client)
    deliveries_flush()
    answer = send_text(graph, to=CUSTOMER, recipient=BSUID)
    assert answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert {s["recipient_id"] for s in receiver.statuses()} == {CUSTOMER}


@pytest.mark.parametrize(
    "addressing",
    [{}, {"recipient": "15551234567"}, {"recipient": "not a bsuid"}],
    ids=["neither", "phone-in-recipient", "garbage-in-recipient"],
)
def test_a_send_needs_a_phone_in_to_or_a_bsuid_in_recipient(graph, addressing):
    body = {"messaging_product": "whatsapp", **addressing, "type": "text", "text": {"body": "x"}}
    assert_graph_error(graph.send(body), 100)


def test_the_chat_thread_of_a_username_only_customer_shows_both_sides(graph, client, receiver):
    username_only_customer_says(client, "hi")
    deliveries_flush()
    send_text(graph, recipient=BSUID)
    response = client.get("/demo/chat/api/thread", {"wa_id": BSUID, "phone_number_id": PHONE_NUMBER_ID})
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [(i["from"], i["message"]["text"]["body"]) for i in items] == [("customer", "hi"), ("business", "Welcome")]
