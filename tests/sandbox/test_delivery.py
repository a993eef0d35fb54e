"""The webhook outbox: signed, retried with backoff like Meta, after commit, one owner per row."""

import hashlib
import hmac
import json
import socket
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from tests.support.sandbox_graph import customer_says
from tests.support.sandbox_stripe import stripe_receiver  # noqa: F401 (fixture)
from tests.workers import wait_until
from waco.sandbox.delivery import delivery_enqueue, worker
from waco.sandbox.models import Delivery, DeliveryKind
from waco.sandbox.services import config_get, config_update, deliveries_flush, deliveries_pending
from waco.sandbox.signing import signature

pytestmark = pytest.mark.usefixtures("number")


def test_signature_is_hmac_sha256_of_the_raw_body_with_the_first_app_secret(settings):
    settings.WACO_META_APP_SECRETS = ["current", "previous"]
    assert signature(b"{}") == "sha256=" + hmac.new(b"current", b"{}", hashlib.sha256).hexdigest()


def test_non_2xx_is_retried_with_exponential_backoff_until_delivered(client, receiver):
    receiver.responses.extend([500, 503])
    customer_says(client)
    row = Delivery.objects.get()
    delays = []
    for expected_attempts in (1, 2):
        before = timezone.now()
        # Each flush gives every due row one attempt; the next is not due yet.
        deliveries_flush(horizon_seconds=10)
        row.refresh_from_db()
        assert row.attempts == expected_attempts and row.delivered_at is None
        assert row.last_error.startswith("HTTP 5")
        delays.append((row.next_attempt_at - before).total_seconds())
        assert deliveries_flush() == 0  # not due yet: backoff is respected
    assert 0.9 <= delays[0] <= 1.5 and 1.9 <= delays[1] <= 2.5
    assert deliveries_flush(horizon_seconds=10) == 1
    row.refresh_from_db()
    assert row.delivered_at is not None and row.attempts == 3
    assert receiver.attempts == 3 and len(receiver.bodies) == 1
    assert deliveries_pending() == 0


def test_connection_error_is_retried(client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.WACO_SANDBOX_WEBHOOK_URL = f"http://127.0.0.1:{closed_port}/webhooks/whatsapp/"
    customer_says(client)
    assert deliveries_flush() == 0
    row = Delivery.objects.get()
    assert row.attempts == 1 and "ConnectionError" in row.last_error and row.next_attempt_at > timezone.now()


def test_delivery_gives_up_after_the_configured_attempts(client, receiver):
    config_update(changes={"webhook_max_attempts": 2, "webhook_retry_base_seconds": 0})
    receiver.responses.extend([500, 500, 500])
    customer_says(client)
    deliveries_flush()
    deliveries_flush()
    row = Delivery.objects.get()
    assert row.gave_up_at is not None and row.attempts == 2
    assert deliveries_flush(horizon_seconds=3600) == 0


def test_backoff_is_capped():
    from waco.sandbox.delivery import backoff_seconds

    assert [backoff_seconds(n, base=1, cap=10) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


@pytest.mark.django_db(transaction=True)
def test_webhook_is_sent_by_the_worker_thread_only_after_commit(client, receiver, settings):
    settings.WACO_SANDBOX_DELIVERY_THREAD = True
    config_get()  # the config row exists before the transaction, so no pass waits on its insert
    try:
        with transaction.atomic():
            customer_says(client)
            # Not before commit, even with the thread running: a whole pass sees nothing.
            worker.wake()
            wait_until(lambda: not worker.wake_pending, message="the delivery thread to start a pass")
            worker.wake()  # taken only once that pass has ended
            wait_until(lambda: not worker.wake_pending, message="the delivery thread to end its pass")
            assert receiver.bodies == []
        [body] = receiver.wait_for(1)
        assert body["entry"][0]["changes"][0]["value"]["messages"][0]["text"] == {"body": "hi"}
    finally:
        worker.stop()


@pytest.mark.django_db(transaction=True)
def test_rolled_back_event_is_never_delivered(client, receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_says(client)
        raise RuntimeError("the sandbox's transaction fails")
    assert deliveries_flush() == 0 and receiver.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_deliver_each_row_once(receiver):
    for i in range(40):
        delivery_enqueue(kind=DeliveryKind.STATUS, body={"n": i})
    results = []

    def run():
        try:
            results.append(deliveries_flush())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 40
    assert sorted(b["n"] for b in receiver.bodies) == list(range(40))
    assert receiver.attempts == 40


def test_bodies_are_posted_byte_for_byte_as_stored(client, receiver):
    customer_says(client)
    row = Delivery.objects.get()
    deliveries_flush()
    assert receiver.bodies == [json.loads(row.body)]


def test_sandbox_deliver_once_flushes_due_rows(client, receiver, capsys):
    customer_says(client)
    call_command("sandbox_deliver", "--once")
    assert "delivered 1" in capsys.readouterr().out
    assert len(receiver.bodies) == 1


def test_due_webhooks_are_merged_into_one_post_up_to_the_batch_size(client, receiver):
    config_update(changes={"webhook_batch_size": 2})
    for text in ("one", "two", "three"):
        customer_says(client, text)
    assert deliveries_flush() == 3
    texts = [
        [e["changes"][0]["value"]["messages"][0]["text"]["body"] for e in body["entry"]] for body in receiver.bodies
    ]
    assert texts == [["one", "two"], ["three"]]
    assert all(body["object"] == "whatsapp_business_account" for body in receiver.bodies)
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [1, 1, 1]


def test_a_refused_merged_post_retries_each_of_its_webhooks(client, receiver):
    config_update(changes={"webhook_batch_size": 10})
    receiver.responses.append(500)
    customer_says(client, "one")
    customer_says(client, "two")
    assert deliveries_flush() == 0
    assert set(Delivery.objects.values_list("attempts", "delivered_at")) == {(1, None)}
    assert deliveries_flush(horizon_seconds=10) == 2
    assert receiver.attempts == 2 and len(receiver.bodies[-1]["entry"]) == 2


def test_stripe_events_are_never_merged(stripe_receiver):
    config_update(changes={"webhook_batch_size": 10})
    for n in range(3):
        delivery_enqueue(kind=DeliveryKind.STRIPE_EVENT, body={"id": f"evt_{n}", "object": "event"})
    assert deliveries_flush() == 3
    assert [event["id"] for event in stripe_receiver.events] == ["evt_0", "evt_1", "evt_2"]


def test_batch_size_is_validated(client):
    for bad in (0, 101, "5", True):
        response = client.post(
            "/sandbox/config", data=json.dumps({"webhook_batch_size": bad}), content_type="application/json"
        )
        assert response.status_code == 400, bad
