"""Brazil's ninth digit and Mexico's 1 after 52: the sandbox answers a send to the other form
of such a number as Meta does, with the account's wa_id, and that customer writes from it."""

import pytest

from tests.support.sandbox_graph import customer_says
from waco.sandbox.graph.wa_ids import canonical_wa_id
from waco.sandbox.models import InboundMessage, ServiceWindow
from waco.sandbox.services import deliveries_flush

pytestmark = pytest.mark.usefixtures("number")

BRAZIL_WITHOUT_NINE = "551187654321"
BRAZIL_WA_ID = "5511987654321"
MEXICO_WITHOUT_ONE = "525512345678"
MEXICO_WA_ID = "5215512345678"
STATUSES_DUE = 5.0  # seconds: every status of a send, at the default delays


@pytest.mark.parametrize(
    ("digits", "wa_id"),
    [
        (BRAZIL_WITHOUT_NINE, BRAZIL_WA_ID),
        (BRAZIL_WA_ID, BRAZIL_WA_ID),  # has the ninth digit already
        ("551132654321", "551132654321"),  # a landline (begins 2 to 5) never had one
        ("5511876543210", "5511876543210"),  # not a Brazilian mobile's length
        (MEXICO_WITHOUT_ONE, MEXICO_WA_ID),
        (MEXICO_WA_ID, MEXICO_WA_ID),
        ("15551234567", "15551234567"),
        ("447700900123", "447700900123"),
    ],
)
def test_the_wa_id_of_a_number(digits, wa_id):
    assert canonical_wa_id(digits) == wa_id


@pytest.mark.parametrize(
    ("to", "wa_id"),
    [
        (BRAZIL_WITHOUT_NINE, BRAZIL_WA_ID),
        ("+55 11 8765-4321", BRAZIL_WA_ID),
        (MEXICO_WITHOUT_ONE, MEXICO_WA_ID),
        ("+52 55 1234 5678", MEXICO_WA_ID),
        (MEXICO_WA_ID, MEXICO_WA_ID),
    ],
)
def test_a_send_is_answered_with_metas_wa_id_and_echoes_the_input(graph, to, wa_id):
    response = graph.text(to=to)
    assert response.status_code == 200, response.content
    assert response.json()["contacts"] == [{"input": to, "wa_id": wa_id}]


def test_statuses_name_metas_wa_id(graph, receiver):
    wamid = graph.text(to=BRAZIL_WITHOUT_NINE).json()["messages"][0]["id"]
    deliveries_flush(horizon_seconds=STATUSES_DUE)
    statuses = receiver.statuses()
    assert statuses and {s["id"] for s in statuses} == {wamid}
    assert {s["recipient_id"] for s in statuses} == {BRAZIL_WA_ID}


@pytest.mark.parametrize(
    ("number_as_given", "wa_id"), [(BRAZIL_WITHOUT_NINE, BRAZIL_WA_ID), (MEXICO_WITHOUT_ONE, MEXICO_WA_ID)]
)
def test_the_customer_writes_from_metas_wa_id(client, receiver, number_as_given, wa_id):
    customer_says(client, "hola", wa_id=number_as_given)
    deliveries_flush()
    [value] = receiver.values()
    assert value["contacts"][0]["wa_id"] == wa_id
    assert value["messages"][0]["from"] == wa_id
    assert InboundMessage.objects.get().wa_id == wa_id
    assert ServiceWindow.objects.get().wa_id == wa_id


def test_a_reply_to_the_old_form_lands_in_the_customers_window(graph, client, receiver):
    """The customer wrote from Meta's wa_id; a free-form reply sent to the number without the
    ninth digit reaches the same customer, inside the window (no 131047)."""
    customer_says(client, "oi", wa_id=BRAZIL_WA_ID)
    graph.text(to=BRAZIL_WITHOUT_NINE, body="Olá!")
    deliveries_flush(horizon_seconds=STATUSES_DUE)
    assert [s["status"] for s in receiver.statuses()] == ["sent", "delivered", "read"]


def test_the_chat_page_shows_the_thread_of_either_form(graph, client):
    customer_says(client, "oi", wa_id=BRAZIL_WA_ID)
    graph.text(to=BRAZIL_WITHOUT_NINE, body="Olá!")
    for wa_id in (BRAZIL_WITHOUT_NINE, BRAZIL_WA_ID):
        response = client.get("/demo/chat/api/thread", {"wa_id": wa_id})
        assert response.status_code == 200, response.content
        assert [item["from"] for item in response.json()["items"]] == ["customer", "business"]
