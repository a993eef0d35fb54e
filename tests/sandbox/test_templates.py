"""Templates on the business account: created PENDING, reviewed, announced by webhook."""

import pytest
import time_machine

from tests.support.sandbox_graph import assert_graph_error
from tests.support.sandbox_shop import CUSTOMER, TOKEN, WABA_ID
from waco.sandbox.services import config_update, deliveries_flush, template_status_set

pytestmark = pytest.mark.usefixtures("number")

START = 1_800_000_000
BODY = [{"type": "BODY", "text": "Your order {{1}} has shipped"}]


def _create(graph, name="order_shipped", language="en_US", category="UTILITY", components=BODY):
    return graph.post(
        f"{WABA_ID}/message_templates",
        {"name": name, "language": language, "category": category, "components": components},
    )


def _statuses(graph, name):
    return [t["status"] for t in graph.get(f"{WABA_ID}/message_templates", {"name": name}).json()["data"]]


def test_template_moves_from_pending_to_approved_with_its_webhook(graph, receiver):
    config_update(changes={"template_review_delay_seconds": 60})
    with time_machine.travel(START, tick=False):
        response = _create(graph)
        assert response.status_code == 200
        created = response.json()
        assert set(created) == {"id", "status", "category"}
        assert created["status"] == "PENDING" and created["category"] == "UTILITY"
        assert deliveries_flush() == 0
        assert _statuses(graph, "order_shipped") == ["PENDING"]
    with time_machine.travel(START + 61, tick=False):
        assert _statuses(graph, "order_shipped") == ["APPROVED"]
        assert deliveries_flush() == 1
    [body] = receiver.bodies
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == WABA_ID and entry["time"] == START + 60
    [change] = entry["changes"]
    assert change["field"] == "message_template_status_update"
    assert change["value"] == {
        "event": "APPROVED",
        "message_template_id": int(created["id"]),
        "message_template_name": "order_shipped",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }


def test_approved_template_can_be_sent(graph):
    config_update(changes={"template_review_delay_seconds": 0})
    _create(graph)
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
        },
    }
    assert graph.send(body).status_code == 200


@pytest.mark.parametrize("name, configured", [("reject_me", []), ("cart_nudge", ["cart_nudge"])])
def test_template_is_rejected_by_name_with_its_reason(graph, receiver, name, configured):
    config_update(changes={"template_review_delay_seconds": 0, "template_reject_names": configured})
    _create(graph, name=name, category="MARKETING")
    deliveries_flush()
    value = receiver.values("message_template_status_update")[0]
    assert (value["event"], value["reason"], value["message_template_category"]) == (
        "REJECTED",
        "INVALID_FORMAT",
        "MARKETING",
    )
    [listed] = graph.get(f"{WABA_ID}/message_templates", {"name": name}).json()["data"]
    assert listed["status"] == "REJECTED" and listed["rejected_reason"] == "INVALID_FORMAT"


def test_template_list_pages_with_cursors(graph):
    for i in range(5):
        _create(graph, name=f"t{i}")
    first = graph.get(f"{WABA_ID}/message_templates", {"limit": 2}).json()
    assert [t["name"] for t in first["data"]] == ["t0", "t1"]
    assert set(first["data"][0]) >= {"name", "language", "status", "category", "components", "id"}
    after = first["paging"]["cursors"]["after"]
    second = graph.client.get(first["paging"]["next"], HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert [t["name"] for t in second["data"]] == ["t2", "t3"]
    rest = graph.get(f"{WABA_ID}/message_templates", {"limit": 10, "after": after}).json()
    assert [t["name"] for t in rest["data"]] == ["t2", "t3", "t4"]
    assert "next" not in rest["paging"]


def test_template_delete_by_name_removes_every_language(graph):
    _create(graph, language="en_US")
    _create(graph, language="de")
    assert graph.delete(f"{WABA_ID}/message_templates?name=order_shipped").json() == {"success": True}
    assert _statuses(graph, "order_shipped") == []
    assert_graph_error(graph.delete(f"{WABA_ID}/message_templates?name=order_shipped"), 100)


def test_deleted_template_review_is_never_announced(graph, receiver):
    _create(graph)
    graph.delete(f"{WABA_ID}/message_templates?name=order_shipped")
    assert deliveries_flush(horizon_seconds=3600) == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Bad Name"},
        {"category": "PROMO"},
        {"components": [{"type": "HEADER", "text": "no body"}]},
        {"language": ""},
    ],
    ids=["name", "category", "no-body", "language"],
)
def test_invalid_template_is_refused_with_100(graph, changes):
    payload = {"name": "ok_name", "language": "en_US", "category": "UTILITY", "components": BODY, **changes}
    assert_graph_error(graph.post(f"{WABA_ID}/message_templates", payload), 100)


def test_duplicate_template_is_refused_with_100(graph):
    _create(graph)
    assert_graph_error(_create(graph), 100)


def test_template_endpoints_need_the_token(graph):
    assert_graph_error(graph.get(f"{WABA_ID}/message_templates", token="bad"), 190, 401)


def test_paused_template_is_refused_with_132015_and_announced(graph, receiver):
    config_update(changes={"template_review_delay_seconds": 0})
    _create(graph)
    template_status_set(waba_id=WABA_ID, name="order_shipped", language="en_US", status="PAUSED", reason="LOW_QUALITY")
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "order_shipped", "language": {"code": "en_US"}},
    }
    assert_graph_error(graph.send(body), 132015)
    deliveries_flush()
    events = [(v["event"], v["reason"]) for v in receiver.values("message_template_status_update")]
    assert ("PAUSED", "LOW_QUALITY") in events
