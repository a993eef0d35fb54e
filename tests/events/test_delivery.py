"""Posting events in this process to a local receiver: signatures, attempts, retries, refusals,
rotation and disabling (the tests with real workers are in test_delivery_workers.py)."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from tests.support.events import drain_here, endpoint_to, event_commit
from tests.support.receiver import EventReceiver
from waco.alerts.models import Alert
from waco.events.delivery import ALERT_KIND
from waco.events.models import Delivery, DeliveryState, EventType
from waco.events.services import endpoint_rotate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = True
    settings.WACO_EVENTS_TIMEOUT_SECONDS = 1


def test_an_event_arrives_signed_with_its_id_and_verifies():
    with EventReceiver() as receiver:
        endpoint, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-1", {"total_minor": 100})
        drain_here()

    [got] = receiver.accepted()
    assert got.verify(secret) == {**got.event, "id": event.id}
    assert got.body == event.body.encode()
    assert got.headers["webhook-id"] == event.id
    delivery = Delivery.objects.get(event=event)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)
    [attempt] = delivery.attempt_rows.all()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok" and attempt.latency_ms is not None


def test_a_failed_attempt_is_recorded_and_retried_later_with_the_same_id_and_a_new_signature():
    with EventReceiver(script=[500]) as receiver:
        endpoint, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        delivery = Delivery.objects.get(event=event)
        assert delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > timezone.now()
        assert delivery.endpoint.__class__.objects.get().failing_since is not None

        with time_machine.travel(timezone.now() + timedelta(minutes=1)):
            drain_here()
            first, second = receiver.received
            assert second.verify(secret)["id"] == event.id

    assert first.status == 500 and second.status == 200
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event.id
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert [a.status_code for a in delivery.attempt_rows.all()] == [500, 200]
    assert endpoint.__class__.objects.get().failing_since is None  # a success clears the failing streak


def test_a_redirect_is_an_answer_not_followed():
    with EventReceiver() as elsewhere, EventReceiver(script=[("redirect", elsewhere.url)]) as receiver:
        endpoint_to(receiver.url)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()

    assert [r.status for r in receiver.received] == [302]
    assert elsewhere.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.last_error == "HTTP 302"


def test_production_refuses_a_loopback_endpoint_at_delivery_time(settings):
    with EventReceiver() as receiver:
        endpoint_to(receiver.url)  # saved while loopback was allowed, e.g. by a later DNS change
        event_commit(EventType.ORDER_PAID, "order:W-1")
        settings.WACO_EVENTS_ALLOW_LOOPBACK = False
        drain_here()

    assert receiver.received == []
    [attempt] = Delivery.objects.get().attempt_rows.all()
    assert attempt.status_code is None and attempt.error.startswith("refused: only https")


def test_the_connection_goes_to_the_address_checked_with_the_host_name_in_the_host_header(monkeypatch):
    """A second lookup (DNS rebinding) would give a private address: the post never asks again."""
    real, answers = socket.getaddrinfo, iter(["127.0.0.1"])

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "shop.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "10.9.9.9"), port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with EventReceiver() as receiver:
        _, secret = endpoint_to(f"http://shop.example:{receiver.port}/hooks")
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()

    [got] = receiver.accepted()
    assert got.headers["Host"] == f"shop.example:{receiver.port}"
    assert got.verify(secret)["subject"] == "order:W-1"


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one():
    with EventReceiver() as receiver:
        endpoint, old = endpoint_to(receiver.url)
        new = endpoint_rotate(endpoint=endpoint)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        [during] = receiver.accepted()
        assert during.headers["webhook-signature"].count("v1,") == 2
        assert during.verify(old) and during.verify(new)

        with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
            event_commit(EventType.ORDER_PAID, "order:W-2")
            drain_here()
            after = receiver.accepted()[1]
            assert after.headers["webhook-signature"].count("v1,") == 1
            assert after.verify(new)
            with pytest.raises(WebhookVerificationError):
                after.verify(old)


def test_an_endpoint_failing_for_three_days_is_disabled_with_an_alert_and_its_deliveries_fail():
    start = timezone.now()
    with EventReceiver(script=[500] * 100) as receiver:
        endpoint, _ = endpoint_to(receiver.url)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        with time_machine.travel(start + timedelta(days=2)):
            event_commit(EventType.ORDER_PAID, "order:W-2")
        with time_machine.travel(start + timedelta(days=3, minutes=1)):
            drain_here()

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "every attempt failed since" in endpoint.disabled_reason
    assert Alert.objects.filter(kind=ALERT_KIND, resolved_at__isnull=True).count() == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.FAILED}
