"""Events delivered by real Celery workers to a local receiver: at least once, signed, in any order
that `sequence` puts right, and never lost to a failing receiver or a killed worker."""

import random

import pytest
from django.utils import timezone

from tests.support.drain import unacked_age, wait_drained
from tests.support.events import WORKER_ENV, endpoint_to, event_commit, worker_settings
from tests.support.receiver import HANG, EventReceiver
from tests.workers import celery_worker, wait_until
from waco.events.delivery import deliveries_sweep
from waco.events.models import Delivery, DeliveryState, EventType

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_worker(test_redis, tmp_path, settings):
    """Start real workers with the events settings (`timeout` overrides the post timeout)."""
    started = []

    def start(name: str = "events", timeout: float | None = None, env: dict | None = None):
        env = WORKER_ENV | ({"WACO_EVENTS_TIMEOUT_SECONDS": str(timeout)} if timeout else {}) | (env or {})
        proc = celery_worker(tmp_path / f"{name}.log", name=name, env=env).start()
        started.append(proc)
        return proc

    worker_settings(settings)
    yield start
    for proc in started:
        print(f"--- {proc.log_path.name} ---\n{proc.log_tail(3000)}")
        proc.stop()


def test_each_event_arrives_once_signed_and_verifiable(start_worker):
    start_worker()
    with EventReceiver() as receiver:
        _, secret = endpoint_to(receiver.url)
        events = [event_commit(EventType.ORDER_CREATED, f"order:W-{n}", {"n": n}) for n in range(5)]
        received = receiver.wait_for(5)
        wait_drained()

    assert sorted(r.verify(secret)["id"] for r in received) == sorted(e.id for e in events)
    assert len(receiver.received) == 5


def test_a_receiver_answering_500_then_timing_out_gets_the_event_later_still_verifiable(start_worker):
    start_worker()
    with EventReceiver(script=[500, HANG]) as receiver:
        _, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-7", {"total_minor": 4_200})
        [got] = receiver.wait_for(1)
        wait_drained()

    assert [r.status for r in receiver.received] == [500, None, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.id}
    assert got.verify(secret)["data"] == {"total_minor": 4_200}
    attempts = Delivery.objects.get(event=event).attempt_rows.all()
    assert [(a.status_code, "Timeout" in a.error) for a in attempts] == [(500, False), (None, True), (200, False)]


def test_retries_shuffle_the_arrivals_and_the_receiver_restores_each_subjects_order(start_worker):
    start_worker()
    chance = random.Random(17)
    subjects = ["order:W-1", "variant:TEE-M", "contact:42"]

    def first_after_a_later_one(event, receiver):
        """Each subject's first event is refused until a later one of that subject got through: its
        retry then arrives out of order whatever the timing (the random 500s shuffle the rest)."""
        later = [r.event for r in receiver.accepted() if r.event["subject"] == event["subject"]]
        return 500 if event["sequence"] == 1 and not later else None

    script = [chance.choice([500, 200, 200]) for _ in range(60)]
    with EventReceiver(script=script, answer=first_after_a_later_one) as receiver:
        _, secret = endpoint_to(receiver.url)
        for n in range(30):
            event_commit(EventType.STOCK_RESERVED, subjects[n % 3], {"n": n})
        receiver.wait_for(30)
        wait_drained()

    unique = {r.headers["webhook-id"]: r.verify(secret) for r in receiver.accepted()}  # dedupe on webhook-id
    for subject in subjects:
        arrivals = [event["sequence"] for event in unique.values() if event["subject"] == subject]
        assert arrivals != sorted(arrivals), f"the retries should have shuffled the arrivals of {subject}"
        assert sorted(arrivals) == list(range(1, 11))


def test_a_worker_killed_while_posting_loses_no_event(start_worker):
    """The receiver hangs on the first post; the worker dies mid-post. When its lease ends, beat's sweep
    hands the delivery to another worker, which posts it again with the same webhook-id."""
    first = start_worker("first", timeout=5)
    with EventReceiver(script=[HANG]) as receiver:
        _, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-9")
        receiver.wait_for(1, accepted=False)
        first.kill()
        # The dead worker's drain message goes back to the queue when a worker finds it older than the
        # visibility timeout; kombu looks once at start, then only every 100 s: start after it has aged.
        wait_until(lambda: unacked_age() > 2.5, timeout=10, message="the held message to age")
        start_worker("second", timeout=5, env={"WACO_BROKER_VISIBILITY_TIMEOUT": "2"})
        wait_until(lambda: deliveries_sweep(now=timezone.now()), timeout=30, message="the lease to end")
        [got] = receiver.wait_for(1)
        wait_drained(timeout=60)

    assert got.verify(secret)["id"] == event.id
    delivery = Delivery.objects.get(event=event)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)
    lost, done = delivery.attempt_rows.all()
    assert (lost.finished_at, lost.status_code, done.status_code) == (None, None, 200)
