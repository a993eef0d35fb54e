"""Recording an event in the change's transaction: a frozen body, a gap-free sequence per subject,
deliveries for the endpoints subscribed to it."""

import json
import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from tests.channels.factories import BusinessAccountFactory
from tests.support.events import endpoint_to, event_commit
from waco.events.models import Delivery, Event, EventType
from waco.events.services import event_id_new, event_record


@pytest.mark.django_db
def test_the_body_is_frozen_with_id_type_timestamp_subject_sequence_and_data():
    event = event_commit(EventType.ORDER_PAID, "order:W-1001", {"total_minor": 12_500, "rate": Decimal("0.05")})

    body = json.loads(event.body)
    assert list(body) == ["id", "type", "timestamp", "subject", "sequence", "data"]
    assert body["id"] == event.id and event.id.startswith("evt_")
    assert body["type"] == "order.paid"
    assert body["timestamp"].endswith("Z")
    assert body["subject"] == "order:W-1001"
    assert body["sequence"] == 1
    assert body["data"] == {"total_minor": 12_500, "rate": "0.05"} == event.data


@pytest.mark.django_db
def test_sequences_count_per_subject():
    numbers = [event_commit(EventType.STOCK_RESERVED, subject).sequence for subject in ["variant:A", "variant:B"] * 3]

    assert numbers == [1, 1, 2, 2, 3, 3]


@pytest.mark.django_db
def test_a_rolled_back_change_takes_its_event_and_its_sequence_number_with_it():
    event_commit(EventType.ORDER_CREATED, "order:W-1")
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(EventType.ORDER_PAID, "order:W-1", {})
        raise RuntimeError("the change failed")

    assert event_commit(EventType.ORDER_CANCELLED, "order:W-1").sequence == 2
    assert Event.objects.filter(subject="order:W-1").count() == 2


@pytest.mark.django_db
def test_unknown_types_and_malformed_subjects_are_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_commit("order.shipped_by_pigeon", "order:W-1")
    with pytest.raises(ValueError, match="subject"):
        event_commit(EventType.ORDER_PAID, "W-1")


def test_ids_sort_by_creation_time():
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, tzinfo=UTC)
    ids = [event_id_new(start + timedelta(milliseconds=ms)) for ms in range(0, 5000, 7)]

    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 30 for i in ids)


@pytest.mark.django_db
def test_deliveries_go_to_enabled_endpoints_subscribed_to_the_type_and_the_account():
    shop, other_shop = BusinessAccountFactory(), BusinessAccountFactory()
    everything, _ = endpoint_to("http://127.0.0.1:9/all")
    orders_of_shop, _ = endpoint_to("http://127.0.0.1:9/shop", types=["order.paid"], accounts=[shop])
    stock_only, _ = endpoint_to("http://127.0.0.1:9/stock", types=["stock.reserved"])
    switched_off, _ = endpoint_to("http://127.0.0.1:9/off")
    switched_off.enabled = False
    switched_off.save()

    paid_here = event_commit(EventType.ORDER_PAID, "order:W-1", business_account=shop)
    paid_elsewhere = event_commit(EventType.ORDER_PAID, "order:W-2", business_account=other_shop)
    consent = event_commit(EventType.CONSENT_CHANGED, "contact:7")  # no account: every subscribed endpoint

    def endpoints(event):
        return set(Delivery.objects.filter(event=event).values_list("endpoint__url", flat=True))

    assert endpoints(paid_here) == {everything.url, orders_of_shop.url}
    assert endpoints(paid_elsewhere) == {everything.url}
    assert endpoints(consent) == {everything.url}
    assert stock_only.deliveries.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_subject_leave_no_gap_and_no_duplicate():
    """Real PostgreSQL transactions in parallel, some rolled back: the committed numbers are 1..n."""
    writers, per_writer = 8, 6
    start = threading.Barrier(writers)
    committed = []
    lock = threading.Lock()

    def write(seed: int):
        chance = random.Random(seed)
        start.wait()
        try:
            for _ in range(per_writer):
                try:
                    with transaction.atomic():
                        event = event_record(EventType.STOCK_RESERVED, "variant:TEE-M", {"writer": seed})
                        if chance.random() < 0.3:
                            raise LookupError("the change was refused after its event was written")
                except LookupError:
                    continue
                with lock:
                    committed.append(event.sequence)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    stored = sorted(Event.objects.filter(subject="variant:TEE-M").values_list("sequence", flat=True))
    assert 0 < len(stored) < writers * per_writer  # some rolled back, so the test shows gaps are filled
    assert stored == sorted(committed) == list(range(1, len(stored) + 1))


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made():
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    ids = [event_id_new(moment) for _ in range(500)]

    assert ids == sorted(ids) and len(set(ids)) == 500
