import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.ingest.factories import DeliveryFactory
from tests.support.webhooks import WEBHOOK_FILES, phone_number_ids_in, post_webhook, text_message_body
from waco.contacts.models import Contact, ServiceWindow
from waco.flags import members_touch
from waco.ingest import inbox, registry, services
from waco.ingest.models import Delivery, DeliveryStatus, EventOutcome, InboxEvent


def store(body: bytes) -> Delivery:
    return DeliveryFactory(body=body.decode())


@pytest.fixture
def number(db):
    return PhoneNumberFactory(graph_id="106540352242922")


@pytest.fixture
def extra_handler():
    """Register a handler for one test and remove it afterwards."""
    added = []

    def add(kind, func, order=registry.HandlerOrder.DIALOGUE):
        registry.register(kind, order=order)(func)
        added.append((kind, func))
        return func

    yield add
    for kind, func in added:
        registry._handlers[kind] = [h for h in registry._handlers[kind] if h.func is not func]


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOK_FILES, ids=lambda p: p.stem)
def test_every_published_payload_is_accepted_and_processed_without_error(path, client):
    body = path.read_bytes()
    for graph_id in phone_number_ids_in(json.loads(body)):
        PhoneNumberFactory(graph_id=graph_id)

    assert post_webhook(client, body).status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.body.encode() == body
    result = services.delivery_process(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert result.failed == 0, delivery.last_error
    assert delivery.status == DeliveryStatus.DONE
    assert InboxEvent.objects.filter(delivery=delivery).count() == result.applied + result.unrouted
    assert result.applied + result.unrouted >= 1


def test_a_redelivered_body_is_applied_once(number, extra_handler):
    calls = []
    extra_handler("message", lambda event, phone_number: calls.append(event.message_id))
    body = text_message_body(phone_number_id=number.graph_id, wamid="wamid.ONCE")

    first = services.delivery_process(delivery_id=store(body).pk)
    second = services.delivery_process(delivery_id=store(body).pk)

    assert (first.applied, second.duplicates) == (1, 1)
    assert calls == ["wamid.ONCE"]
    assert Delivery.objects.filter(status=DeliveryStatus.DONE).count() == 2


def test_handlers_run_in_declared_order_contacts_first(number, extra_handler):
    seen_window = []

    def dialogue(event, phone_number):
        seen_window.append(ServiceWindow.objects.filter(phone_number=phone_number).exists())

    extra_handler("message", dialogue, order=registry.HandlerOrder.DIALOGUE)
    services.delivery_process(delivery_id=store(text_message_body(phone_number_id=number.graph_id)).pk)
    assert seen_window == [True]


def test_a_handler_exception_rolls_the_event_back_and_it_is_retried(number, extra_handler):
    attempts = []

    def flaky(event, phone_number):
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("the database went away")

    extra_handler("message", flaky)
    delivery = store(text_message_body(phone_number_id=number.graph_id))

    services.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "ConnectionError: the database went away" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    # The contacts handler ran in the same transaction: its window was rolled back too.
    assert not InboxEvent.objects.exists()
    assert not ServiceWindow.objects.exists()

    services.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert InboxEvent.objects.get().outcome == EventOutcome.APPLIED
    assert ServiceWindow.objects.count() == 1


def test_a_delivery_that_keeps_failing_is_marked_failed_and_can_be_rerun(number, extra_handler):
    extra_handler("message", lambda event, phone_number: 1 / 0)
    delivery = store(text_message_body(phone_number_id=number.graph_id))
    for _ in range(services.MAX_ATTEMPTS):
        services.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "ZeroDivisionError" in delivery.last_error

    inbox.delivery_rerun(delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)


@pytest.mark.django_db
def test_an_event_for_an_unknown_number_is_recorded_unrouted_and_not_retried():
    delivery = store(text_message_body(phone_number_id="999999"))
    result = services.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    event = InboxEvent.objects.get()
    assert (result.unrouted, delivery.status) == (1, DeliveryStatus.DONE)
    assert event.outcome == EventOutcome.UNKNOWN_NUMBER
    assert event.raw["text"]["body"] == "hello"
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_an_unsupported_field_is_stored_and_ignored():
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "brand_new", "value": {"x": 1}}]}],
    }
    delivery = store(json.dumps(body).encode())
    services.delivery_process(delivery_id=delivery.pk)
    event = InboxEvent.objects.get()
    assert (event.kind, event.outcome) == ("unsupported", EventOutcome.NO_HANDLER)
    assert Delivery.objects.get().status == DeliveryStatus.DONE


def test_a_claim_leases_due_deliveries_so_no_other_drain_takes_them(number):
    due = store(text_message_body(phone_number_id=number.graph_id))
    now = timezone.now()
    backing_off = store(text_message_body(phone_number_id=number.graph_id, wamid="wamid.2"))
    Delivery.objects.filter(pk=backing_off.pk).update(next_attempt_at=now + timedelta(minutes=1))
    done = store(text_message_body(phone_number_id=number.graph_id, wamid="wamid.3"))
    Delivery.objects.filter(pk=done.pk).update(status=DeliveryStatus.DONE)

    assert inbox.deliveries_claim(now=now) == [due.pk]
    assert inbox.deliveries_claim(now=now) == []
    # A killed worker's lease runs out and the delivery is due again (so is the backoff).
    assert set(inbox.deliveries_claim(now=now + inbox.CLAIM_LEASE)) == {due.pk, backing_off.pk}


def test_the_beat_job_publishes_a_drain_only_when_deliveries_are_due(number, monkeypatch):
    published = []
    monkeypatch.setattr("waco.ingest.tasks.drain_inbox.apply_async", lambda args: published.append(args))
    assert inbox.deliveries_drain_due(now=timezone.now()) is False
    store(text_message_body(phone_number_id=number.graph_id))
    assert inbox.deliveries_drain_due(now=timezone.now()) is True
    assert published == [()]


def test_a_drain_processes_every_due_delivery(number):
    for n in range(inbox.CLAIM_BATCH + 3):
        store(text_message_body(phone_number_id=number.graph_id, wamid=f"wamid.{n}"))
    assert inbox.inbox_drain() == inbox.CLAIM_BATCH + 3
    assert not Delivery.objects.exclude(status=DeliveryStatus.DONE).exists()
    assert InboxEvent.objects.count() == inbox.CLAIM_BATCH + 3


def test_retry_delay_grows_and_is_capped():
    delays = [services.retry_delay(n) for n in range(1, 12)]
    assert delays[0] < delays[3] < delays[6]
    assert max(delays) <= services.RETRY_MAX * 1.2


@pytest.mark.django_db(transaction=True)
def test_the_same_event_in_two_deliveries_processed_at_once_is_applied_once(extra_handler):
    number = PhoneNumberFactory()
    body = text_message_body(phone_number_id=number.graph_id, wamid="wamid.RACE")
    deliveries = [store(body), store(body)]
    applied = []
    barrier = threading.Barrier(2, timeout=10)
    real_handlers_for = registry.handlers_for

    def handlers_for_after_barrier(kind):
        barrier.wait()  # both workers are about to insert the same key
        return real_handlers_for(kind)

    def slow_handler(event, phone_number):
        applied.append(event.message_id)
        time.sleep(0.3)  # hold the transaction open while the other worker waits

    extra_handler("message", slow_handler)
    results, errors = [], []

    def worker(delivery_id):
        try:
            results.append(services.delivery_process(delivery_id=delivery_id))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    registry.handlers_for = handlers_for_after_barrier
    try:
        threads = [threading.Thread(target=worker, args=(d.pk,)) for d in deliveries]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        registry.handlers_for = real_handlers_for

    assert errors == []
    assert applied == ["wamid.RACE"]
    assert sorted((r.applied, r.duplicates) for r in results) == [(0, 1), (1, 0)]
    assert InboxEvent.objects.count() == 1
    assert ServiceWindow.objects.count() == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DONE}


@pytest.mark.django_db
@pytest.mark.parametrize("oddity", ['"bad\\u0000name"', "NaN", "-Infinity"])
def test_values_postgresql_cannot_store_are_kept_in_a_form_it_can(oddity):
    body = (
        '{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": '
        '[{"field": "brand_new", "value": {"name": ODD}}]}]}'
    ).replace("ODD", oddity)
    delivery = store(body.encode())
    assert services.delivery_process(delivery_id=delivery.pk).failed == 0
    assert InboxEvent.objects.get().outcome == EventOutcome.NO_HANDLER


def test_a_nul_character_in_a_profile_name_does_not_block_the_message(number):
    body = text_message_body(phone_number_id=number.graph_id, name="Am\x00al")
    assert services.delivery_process(delivery_id=store(body).pk).failed == 0
    assert Contact.objects.get().profile_name == "Amal"


def test_a_delivery_whose_ring_found_a_drain_requested_is_taken_by_that_drain(
    number, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr("waco.ingest.tasks.drain_inbox.apply_async", lambda args: published.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        first = inbox.delivery_receive(
            source="meta", body=text_message_body(phone_number_id=number.graph_id).decode(), headers={}
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = inbox.delivery_receive(
            source="meta", body=text_message_body(phone_number_id=number.graph_id, wamid="wamid.2").decode(), headers={}
        )
    assert published == [()]  # the second ring found the doorbell set by the first

    monkeypatch.setattr(inbox, "MAX_DRAINS", 1)
    assert inbox.inbox_drain() == 2  # the drain requested by the first ring takes both
    assert published == [()]
    assert set(Delivery.objects.values_list("pk", "status")) == {(first, "done"), (second, "done")}


def test_a_drain_that_finds_a_backlog_asks_another_worker_to_help(number, monkeypatch):
    published = []
    monkeypatch.setattr("waco.ingest.tasks.drain_inbox.apply_async", lambda args: published.append(args))
    for n in range(inbox.HELP_AT):
        store(text_message_body(phone_number_id=number.graph_id, wamid=f"wamid.{n}"))
    assert inbox.inbox_drain() == inbox.HELP_AT
    assert published == [()]


def test_deliveries_stored_while_a_drain_works_publish_no_other_drain(
    number, monkeypatch, django_capture_on_commit_callbacks
):
    """Under steady traffic, a drain per ring would fill every worker process with drains."""
    published = []
    monkeypatch.setattr("waco.ingest.tasks.drain_inbox.apply_async", lambda args: published.append(args))

    def receive(n):
        return inbox.delivery_receive(
            source="meta",
            body=text_message_body(phone_number_id=number.graph_id, wamid=f"wamid.{n}").decode(),
            headers={},
        )

    original_process = services.deliveries_process

    def process_while_a_webhook_arrives(*, delivery_ids):
        with django_capture_on_commit_callbacks(execute=True):
            if len(delivery_ids) == 1 and not published_during:
                published_during.append(receive(99))  # arrives mid-drain: rings, publishes nothing
        return original_process(delivery_ids=delivery_ids)

    published_during = []
    monkeypatch.setattr(inbox, "deliveries_process", process_while_a_webhook_arrives)
    receive(1)
    assert inbox.inbox_drain() == 2  # its own delivery, then the one stored meanwhile
    assert published == []
    with django_capture_on_commit_callbacks(execute=True):
        receive(2)  # the drain has ended: this one rings a new drain
    assert published == [()]


def test_no_help_is_asked_for_beyond_the_drain_limit(number, monkeypatch):
    published = []
    monkeypatch.setattr("waco.ingest.tasks.drain_inbox.apply_async", lambda args: published.append(args))
    for other in range(inbox.MAX_DRAINS - 1):
        members_touch(inbox.DRAINS_KEY, f"another-drain-{other}", 30)
    for n in range(inbox.HELP_AT):
        store(text_message_body(phone_number_id=number.graph_id, wamid=f"wamid.{n}"))
    assert inbox.inbox_drain() == inbox.HELP_AT
    assert published == []


def test_a_failing_delivery_in_a_batch_is_retried_alone(number, extra_handler):
    def fails_on_two(event, phone_number):
        if event.message_id == "wamid.2":
            raise ConnectionError("the database went away")

    extra_handler("message", fails_on_two)
    ids = [store(text_message_body(phone_number_id=number.graph_id, wamid=f"wamid.{n}")).pk for n in range(4)]

    result = services.deliveries_process(delivery_ids=ids)

    assert (result.applied, result.failed) == (3, 1)
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["done", "done", "pending", "done"]
    assert Delivery.objects.get(pk=ids[2]).attempts == 1


def test_a_batch_reads_its_deliveries_and_numbers_once(number, django_assert_max_num_queries):
    """Status webhooks are mostly this overhead: it must not grow with the batch."""
    ids = [store(status_body(phone_number_id=number.graph_id, wamid=f"wamid.S{n}")).pk for n in range(20)]
    # Per status: BEGIN, the event's INSERT, the message's lookup, parking it (no such message), COMMIT.
    with django_assert_max_num_queries(20 * 5 + 3):
        result = services.deliveries_process(delivery_ids=ids)
    assert result.applied == 20
    assert not Delivery.objects.exclude(status=DeliveryStatus.DONE).exists()


def status_body(*, phone_number_id: str, wamid: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "971500000000", "phone_number_id": phone_number_id},
        "statuses": [
            {"id": wamid, "status": "delivered", "timestamp": str(int(time.time())), "recipient_id": "971500000001"}
        ],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(envelope).encode()
