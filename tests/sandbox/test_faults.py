"""Fault injection: each kind is produced as configured, reproducibly."""

import json
import time

import pytest

from tests.support.sandbox_graph import assert_graph_error, customer_says
from tests.support.sandbox_shop import CUSTOMER, PHONE_NUMBER_ID
from waco.sandbox.models import SentMessage
from waco.sandbox.services import config_get, config_reset, config_update, deliveries_flush

pytestmark = pytest.mark.usefixtures("number")

ALL_STATUSES = 5.0
# The sandbox, not its rate limits, is under test here.
UNLIMITED = {"numbers": {PHONE_NUMBER_ID: {"messages_per_second": 1_000_000}}}


def _send_many(graph, count):
    return [graph.text(to=f"1555{i:07d}") for i in range(count)]


@pytest.mark.parametrize("percent, seed", [(2, 0), (5, 1), (20, "benchmark")])
def test_configured_error_rate_yields_that_share_of_1000_sends(graph, percent, seed):
    config_update(
        changes={
            **UNLIMITED,
            "statuses": False,
            "fault_seed": seed,
            "sync_error_rates": {"131000": percent / 100},
        }
    )
    responses = _send_many(graph, 1000)
    refused = [r for r in responses if r.status_code != 200]
    assert abs(len(refused) - percent * 10) <= 20
    for response in refused:
        assert_graph_error(response, 131000, 500)
    assert SentMessage.objects.count() == 1000 - len(refused)


@pytest.mark.parametrize("seed", range(20))
def test_fault_share_holds_for_any_seed(seed):
    from waco.sandbox.faults import FaultStream

    for rate in (0.01, 0.025, 0.05, 0.333, 0.9):
        stream = FaultStream(str(seed), rate)
        hits = [stream.next() for _ in range(1000)]
        assert abs(sum(hits) - rate * 1000) <= 1
        # Spread at random, not bunched at the start of the run.
        assert 0 < sum(hits[:500]) < sum(hits)


def test_same_seed_gives_the_same_faults(graph):
    def run():
        config_update(
            changes={
                **UNLIMITED,
                "statuses": False,
                "lean": True,
                "sync_error_rates": {"131016": 0.3},
                "fault_seed": 7,
            }
        )
        return [r.status_code for r in _send_many(graph, 50)]

    first, second = run(), run()
    assert first == second and 500 in first


def test_server_error_rate_answers_5xx(graph):
    config_update(changes={"server_error_rate": 1.0, "server_error_status": 503})
    assert_graph_error(graph.text(), 2, 503)
    config_update(changes={"server_error_rate": 1.0, "server_error_status": 500})
    assert_graph_error(graph.text(), 131000, 500)
    assert not SentMessage.objects.exists()


def test_latency_is_added_to_graph_calls(graph):
    config_update(changes={"latency_ms": 150})
    started = time.perf_counter()
    graph.get(PHONE_NUMBER_ID)
    assert time.perf_counter() - started >= 0.15


def test_throttle_burst_refuses_the_next_sends_with_130429(graph, client):
    assert (
        client.post("/sandbox/config", json.dumps({"throttle_burst": 3}), content_type="application/json").json()[
            "throttle_burst"
        ]
        == 3
    )
    codes = [graph.text(to=f"1555000000{i}").status_code for i in range(5)]
    assert codes == [400, 400, 400, 200, 200]
    assert config_get().throttle_remaining == 0


def test_async_error_rate_fails_accepted_sends_by_status_webhook(graph, client, receiver):
    customer_says(client)
    config_update(changes={"async_error_rates": {"131026": 1.0}})
    response = graph.text()
    assert response.status_code == 200
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    [status] = [s for s in receiver.statuses()]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131026


def _statuses_of_one_send(graph, client, receiver, **changes):
    customer_says(client)
    deliveries_flush()
    config_update(changes=changes)
    graph.text()
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    return [s["status"] for s in receiver.statuses()]


def test_dropped_statuses_are_never_delivered(graph, client, receiver):
    assert _statuses_of_one_send(graph, client, receiver, status_drop_rate=1.0) == []


def test_duplicated_statuses_are_delivered_twice(graph, client, receiver):
    assert _statuses_of_one_send(graph, client, receiver, status_duplicate_rate=1.0) == [
        "sent",
        "sent",
        "delivered",
        "delivered",
        "read",
        "read",
    ]


def test_reordered_statuses_arrive_newest_first(graph, client, receiver):
    assert _statuses_of_one_send(graph, client, receiver, status_reorder_rate=1.0) == [
        "read",
        "delivered",
        "sent",
    ]


def test_statuses_can_be_turned_off(graph, client, receiver):
    assert _statuses_of_one_send(graph, client, receiver, statuses=False) == []


def test_read_receipts_can_be_turned_off(graph, client, receiver):
    assert _statuses_of_one_send(graph, client, receiver, read_receipts=False) == ["sent", "delivered"]


def test_duplicated_inbound_message_is_delivered_twice(client, receiver):
    config_update(changes={"inbound_duplicate_rate": 1.0})
    wamid = customer_says(client)
    deliveries_flush()
    assert [m["id"] for m in receiver.messages()] == [wamid, wamid]


def test_reordered_inbound_message_is_overtaken_by_a_later_one(client, receiver):
    config_update(changes={"inbound_reorder_rate": 1.0, "reorder_delay_ms": 2000})
    first = customer_says(client, "first")
    config_update(changes={"inbound_reorder_rate": 0.0})
    second = customer_says(client, "second")
    deliveries_flush()
    assert [m["id"] for m in receiver.messages()] == [second]
    deliveries_flush(horizon_seconds=3)
    assert [m["id"] for m in receiver.messages()] == [second, first]


def test_lean_mode_records_sends_in_memory_without_statuses(graph, client, receiver):
    config_update(changes={"lean": True})
    wamid = graph.text().json()["messages"][0]["id"]
    assert not SentMessage.objects.exists()
    assert deliveries_flush(horizon_seconds=ALL_STATUSES) == 0
    [item] = client.get("/sandbox/graph/outbox", {"to": CUSTOMER}).json()
    assert item["wamid"] == wamid and item["text"] == {"body": "Hello"}


def test_lean_mode_can_still_send_statuses(graph, client, receiver):
    customer_says(client)
    deliveries_flush()
    config_update(changes={"lean": True, "lean_statuses": True})
    graph.text()
    deliveries_flush(horizon_seconds=ALL_STATUSES)
    assert [s["status"] for s in receiver.statuses()] == ["sent", "delivered", "read"]


def test_config_endpoint_shows_changes_and_resets(client):
    def post(body):
        return client.post("/sandbox/config", json.dumps(body), content_type="application/json")

    assert post({"latency_ms": 20, "sync_error_rates": {"131000": 0.1}}).status_code == 200
    shown = client.get("/sandbox/config").json()
    assert shown["latency_ms"] == 20 and shown["sync_error_rates"] == {"131000": 0.1}
    assert post({"reset": True}).json()["latency_ms"] == 0
    config_update(changes={"lean": True})
    assert config_reset()["lean"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"no_such_key": 1},
        {"server_error_rate": 2},
        {"sync_error_rates": {"abc": 0.1}},
        {"numbers": {"1": {"quality_rating": "PURPLE"}}},
        [1],
    ],
    ids=["unknown-key", "rate-over-1", "bad-code", "bad-quality", "not-object"],
)
def test_config_endpoint_refuses_invalid_values(client, body):
    response = client.post("/sandbox/config", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]
