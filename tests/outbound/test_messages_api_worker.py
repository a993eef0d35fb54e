"""POST /messages with a real worker and the sandbox's Graph API: the request only queues, the worker
sends once, Meta's statuses come back through the webhook, and GET /messages/{id} shows each step."""

from datetime import datetime, timedelta

import pytest

from outbound.models import OutboundMessage
from tests.support.drain import wait_drained
from tests.support.sandbox_shop import ORDER_UPDATE_PARAMS, approved_chain, sandbox_shop_wire
from tests.workers import wait_until
from waco.sandbox import services as sandbox

CUSTOMER = "971501230077"


@pytest.fixture
def sandbox_shop(transactional_db, settings, live_server, monkeypatch):
    """Meta's stand-in on the live server with an approved order_update chain, and a customer who
    consented to order updates; the worker (started after this) sends to the same stand-in."""
    shop = sandbox_shop_wire(settings, live_server)
    approved_chain(shop, "order_shipped")
    shop.consent(CUSTOMER)
    monkeypatch.setenv("WACO_GRAPH_API_BASE", settings.WACO_GRAPH_API_BASE)
    yield shop
    shop.close()


@pytest.mark.worker
def test_a_requested_message_is_sent_once_by_the_worker_and_its_steps_are_timed(
    sandbox_shop, worker_log, api_client_factory
):
    client = api_client_factory(scopes=["messages:send", "messages:read"])
    body = {"to": CUSTOMER, "purpose": "order_update", "parameters": ORDER_UPDATE_PARAMS, "reference": "W-1042"}

    queued = client.post("/api/v1/messages", body, HTTP_IDEMPOTENCY_KEY="shipped-W-1042")
    assert queued.status_code == 202, queued.content
    message_id = queued.json()["id"]
    assert queued.json()["decision"]["template"] == "order_shipped"
    assert client.post("/api/v1/messages", body).json()["id"] == message_id  # a retry: the same message

    wait_until(lambda: sandbox_shop.sent_bodies(to=CUSTOMER), message="the worker's Graph call")
    sandbox.deliveries_flush(horizon_seconds=60)  # Meta's sent, delivered and read statuses, to the webhook
    wait_until(
        lambda: OutboundMessage.objects.filter(pk=message_id, read_at__isnull=False).exists(),
        message="the statuses, applied by the worker",
    )
    wait_drained()

    [sent] = sandbox_shop.sent_bodies(to=CUSTOMER)
    assert sent["template"]["name"] == "order_shipped"
    assert sent["biz_opaque_callback_data"] == str(message_id)
    shown = client.get(f"/api/v1/messages/{message_id}").json()
    assert shown["status"] == "read"
    times = {step: datetime.fromisoformat(at) if at else None for step, at in shown["times"].items()}
    assert times["failed"] is None and shown["error"] is None
    # Meta's times are whole seconds: `sent` may read up to a second before our `queued`.
    assert times["queued"] - timedelta(seconds=1) <= times["sent"] <= times["delivered"] <= times["read"]
