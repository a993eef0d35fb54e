"""POST /{phone-number-id}/marketing_messages: Meta's Marketing Messages API, for marketing templates only.

Served like /messages (the same answer, statuses and faults), refusing any other message the
way Meta does, and recording the edge each send came through.
"""

import pytest

from tests.support.sandbox_graph import assert_graph_error, customer_says
from tests.support.sandbox_shop import CUSTOMER, PHONE_NUMBER_ID, WABA_ID
from waco.sandbox.models import SentMessage
from waco.sandbox.services import config_update, deliveries_flush

pytestmark = pytest.mark.usefixtures("number")

BODY = [{"type": "BODY", "text": "Hello {{1}}"}]
ALL_STATUSES = 5.0  # seconds: past the default delivered and read delays


@pytest.fixture(autouse=True)
def templates(number, graph):
    config_update(changes={"template_review_delay_seconds": 0})
    for name, category in (("summer_sale", "MARKETING"), ("order_shipped", "UTILITY")):
        created = graph.post(
            f"{WABA_ID}/message_templates",
            {"name": name, "language": "en_US", "category": category, "components": BODY},
        )
        assert created.status_code == 200, created.content


def template_send(name, **extra):
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Amal"}]}],
        },
        **extra,
    }


def marketing_post(graph, body):
    return graph.post(f"{PHONE_NUMBER_ID}/marketing_messages", body)


def test_a_marketing_template_is_accepted_with_the_answer_of_messages_and_its_edge_is_recorded(graph, client):
    response = marketing_post(graph, template_send("summer_sale", message_activity_sharing=True))

    assert response.status_code == 200, response.content
    answer = response.json()
    assert set(answer) == {"messaging_product", "contacts", "messages"}
    assert answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    [message] = answer["messages"]
    assert message["id"].startswith("wamid.") and message["message_status"] == "accepted"
    sent = SentMessage.objects.get(wamid=message["id"])
    assert (sent.edge, sent.category) == ("marketing_messages", "marketing")
    listed = client.get("/sandbox/graph/outbox", {"edge": "marketing_messages"}).json()
    assert [item["wamid"] for item in listed] == [message["id"]]
    assert client.get("/sandbox/graph/outbox", {"edge": "messages"}).json() == []


def test_a_send_to_messages_is_recorded_as_such(graph, client):
    response = graph.send(template_send("summer_sale"))

    assert response.status_code == 200, response.content
    assert SentMessage.objects.get().edge == "messages"
    assert client.get("/sandbox/graph/outbox", {"edge": "marketing_messages"}).json() == []


def test_statuses_follow_as_after_messages_with_marketing_pricing(graph, receiver):
    wamid = marketing_post(graph, template_send("summer_sale", biz_opaque_callback_data="m-7")).json()["messages"][0][
        "id"
    ]

    deliveries_flush(horizon_seconds=ALL_STATUSES)

    statuses = [s for s in receiver.statuses() if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"m-7"}
    assert {s["pricing"]["category"] for s in statuses} == {"marketing"}


def test_free_form_is_refused_with_100_message_must_be_a_template(graph, client):
    customer_says(client)  # an open window changes nothing: the edge takes templates only
    text = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "hi"}}

    error = assert_graph_error(marketing_post(graph, text), 100)

    assert error["error_data"]["details"] == "Message must be a template message."
    assert not SentMessage.objects.exists()


def test_a_utility_template_is_refused_with_131055(graph):
    error = assert_graph_error(marketing_post(graph, template_send("order_shipped")), 131055)

    assert "marketing templates" in error["error_data"]["details"]
    assert not SentMessage.objects.exists()


def test_message_activity_sharing_must_be_a_boolean(graph):
    assert_graph_error(marketing_post(graph, template_send("summer_sale", message_activity_sharing="yes")), 100)


def test_an_unknown_template_is_refused_as_on_messages(graph):
    assert_graph_error(marketing_post(graph, template_send("no_such_offer")), 132001, 404)


def test_injected_faults_apply_as_on_messages(graph):
    config_update(changes={"sync_error_rates": {"131000": 1.0}})

    assert_graph_error(marketing_post(graph, template_send("summer_sale")), 131000, 500)
    assert not SentMessage.objects.exists()


def test_the_edge_needs_the_token(graph):
    response = graph.post(f"{PHONE_NUMBER_ID}/marketing_messages", template_send("summer_sale"), token=None)
    assert_graph_error(response, 190, 401)
