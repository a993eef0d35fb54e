"""When a failed delivery is tried again: twice the last wait, jittered, capped at three hours, and never
after three days (time-machine moves the clock to each due time; nothing sleeps)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support.events import drain_here, endpoint_to, event_commit
from tests.support.receiver import EventReceiver
from waco.alerts.models import Alert
from waco.backoff import backoff_delay
from waco.events.delivery import ALERT_KIND, RETRY_CAP, RETRY_FOR
from waco.events.models import Delivery, DeliveryState, EventType

BASE = timedelta(seconds=10)  # WACO_EVENTS_RETRY_BASE_SECONDS' default
JITTER = 0.2  # backoff_delay's default, the one deliveries use


def nominal(attempts: int) -> timedelta:
    """The wait after the attempts-th failure, before jitter: 10 s, 20 s, 40 s ... up to the cap."""
    return min(BASE * 2 ** (attempts - 1), RETRY_CAP)


def within_jitter(delay: timedelta, attempts: int) -> bool:
    return nominal(attempts) * (1 - JITTER) <= delay <= nominal(attempts) * (1 + JITTER)


@pytest.mark.parametrize("attempts", [1, 2, 3, 8, 11])
def test_each_wait_doubles_the_last_within_the_jitter(attempts):
    delays = [backoff_delay(attempts, base=BASE, cap=RETRY_CAP) for _ in range(200)]

    assert all(within_jitter(delay, attempts) for delay in delays), (min(delays), max(delays))
    # The jitter varies: the waits spread over the band rather than falling in step.
    assert min(delays) < nominal(attempts) * 0.9 and max(delays) > nominal(attempts) * 1.1


@pytest.mark.parametrize("attempts", [12, 13, 40, 45, 1000])
def test_past_three_hours_the_wait_is_the_cap_within_the_jitter_however_many_attempts(attempts):
    delays = [backoff_delay(attempts, base=BASE, cap=RETRY_CAP) for _ in range(200)]

    assert all(RETRY_CAP * 0.8 <= delay <= RETRY_CAP * 1.2 for delay in delays)
    assert len(set(delays)) > 100


@pytest.fixture(autouse=True)
def events_settings(settings):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = True
    settings.WACO_EVENTS_TIMEOUT_SECONDS = 1
    settings.WACO_EVENTS_RETRY_BASE_SECONDS = BASE.total_seconds()


def retry_until_given_up(clock, *, between=None) -> tuple[Delivery, list, list]:
    """Post order:W-1's delivery at each due time until it is no longer pending.

    Returns the delivery, its attempts and the wait set after each failure (from the failure's
    recorded time). `between` runs after every failed attempt (e.g. the shop's other events)."""
    event_commit(EventType.ORDER_PAID, "order:W-1")
    delivery = Delivery.objects.get(event__subject="order:W-1")
    waits = []
    while delivery.state == DeliveryState.PENDING:
        assert delivery.attempts < 100, "still retrying after 100 attempts"
        assert drain_here() == 1
        delivery.refresh_from_db()
        if delivery.state == DeliveryState.PENDING:
            waits.append(delivery.next_attempt_at - delivery.attempt_rows.last().finished_at)
            if between:
                between()
            clock.move_to(delivery.next_attempt_at)
    return delivery, list(delivery.attempt_rows.all()), waits


def assert_the_schedule(delivery, attempts, waits):
    assert delivery.attempts == len(attempts) == len(waits) + 1
    for count, wait in enumerate(waits, start=1):
        assert within_jitter(wait, count), (count, wait)
    capped = [wait for count, wait in enumerate(waits, start=1) if nominal(count) == RETRY_CAP]
    assert len(capped) > 10 and len(set(capped)) == len(capped)  # the jitter at work on the real schedule
    # Retried while within three days of the event; the first attempt past them is the last one.
    assert attempts[-2].finished_at < delivery.created_at + RETRY_FOR <= attempts[-1].finished_at
    assert delivery.state == DeliveryState.FAILED and delivery.last_error == "HTTP 500"


@pytest.mark.django_db
def test_a_receiver_failing_everything_gets_the_retries_for_three_days_then_its_endpoint_is_disabled_with_an_alert():
    with EventReceiver(script=[500] * 100) as receiver, time_machine.travel(timezone.now()) as clock:
        endpoint, _ = endpoint_to(receiver.url)
        delivery, attempts, waits = retry_until_given_up(clock)

        assert_the_schedule(delivery, attempts, waits)
        assert len(receiver.received) == delivery.attempts
        endpoint.refresh_from_db()
        assert not endpoint.enabled and endpoint.disabled_reason.startswith("every attempt failed since")
        assert Alert.objects.filter(kind=ALERT_KIND, resolved_at__isnull=True).count() == 1
        clock.move_to(timezone.now() + timedelta(days=7))
        assert drain_here() == 0  # given up: never tried again


@pytest.mark.django_db
def test_a_receiver_refusing_one_event_only_gets_it_for_three_days_then_it_fails_without_disabling_or_alert():
    """The endpoint is healthy (it takes the shop's other events): only this delivery gives up,
    left failed in the admin for a replay; nothing is disabled and no alert is raised."""
    other_events = iter(range(1000))

    def the_shop_sells_on():
        event_commit(EventType.ORDER_PAID, f"order:W-{next(other_events) + 2}")
        assert drain_here() == 1  # only the new event is due: the refused one waits for its time

    # The receiver answers, in turn, 500 to order:W-1 and 200 to the event sold after each failure.
    with EventReceiver(script=[500, 200] * 100) as receiver, time_machine.travel(timezone.now()) as clock:
        endpoint, _ = endpoint_to(receiver.url)
        delivery, attempts, waits = retry_until_given_up(clock, between=the_shop_sells_on)

        assert_the_schedule(delivery, attempts, waits)
        assert {r.event["subject"] for r in receiver.received if r.status == 500} == {"order:W-1"}
        endpoint.refresh_from_db()
        assert endpoint.enabled and endpoint.failing_since is not None  # its last attempt was the refused one
        assert not Alert.objects.filter(kind=ALERT_KIND).exists()
        assert set(Delivery.objects.exclude(pk=delivery.pk).values_list("state", flat=True)) == {
            DeliveryState.DELIVERED
        }
