"""The inbox: store a delivery, split it into events, apply each exactly once."""

import hashlib
import json
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from waco.channels.models import PhoneNumber
from waco.cloud_api.webhooks import parse_delivery
from waco.ingest import registry
from waco.ingest.models import Delivery, DeliverySource, DeliveryStatus, EventOutcome, InboxEvent

logger = logging.getLogger(__name__)

# Meta retries undelivered webhooks for days, so we keep trying too, then stop
# and show the delivery as failed in the admin for a person to re-run.
MAX_ATTEMPTS = 8
# If the dispatch on commit was lost (broker down, killed worker), beat picks
# the delivery up after this long; long enough that a busy queue is not doubled.
REDISPATCH_AFTER = timedelta(minutes=2)
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
REDISPATCH_BATCH = 500
# The longest dedupe key the column takes; longer keys are hashed.
MAX_KEY_LENGTH = 255

# How each source's stored body becomes typed events. Stripe's parser is added
# by checkout through `register_parser`.
_parsers: dict[str, Callable[[str], list]] = {DeliverySource.META: parse_delivery}


def register_parser(source: str, parser: Callable[[str], list]) -> None:
    _parsers[source] = parser


def delivery_receive(*, source: str, body: str, headers: dict, now: datetime | None = None) -> int:
    """Store a webhook request in one INSERT and dispatch it after commit; returns its id.

    This runs in the webhook request, where every 0.1 ms counts: a hand-written
    INSERT costs half of what the ORM's create() does (bench/ingest.py).
    """
    from waco.dispatch import enqueue_on_commit
    from waco.ingest.tasks import process_delivery

    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table}"
            " (source, body, headers, received_at, status, attempts, next_attempt_at, last_error)"
            " VALUES (%s, %s, %s, %s, %s, 0, %s, '') RETURNING id",
            [source, body, json.dumps(headers), now, DeliveryStatus.PENDING, now + REDISPATCH_AFTER],
        )
        delivery_id = cursor.fetchone()[0]
    enqueue_on_commit(process_delivery, delivery_id)
    return delivery_id


@dataclass
class ProcessResult:
    applied: int = 0
    duplicates: int = 0
    unrouted: int = 0
    failed: int = 0


def delivery_process(*, delivery_id: int, now: datetime | None = None) -> ProcessResult:
    """Apply every event of a delivery; safe to run twice or concurrently.

    Each event commits on its own, so a failing event does not hold back the
    others; the delivery stays pending (and is retried by beat) until all are done.
    """
    result = ProcessResult()
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return result
    events = _parsers[delivery.source](delivery.body)
    numbers = _known_numbers(events)
    errors = []
    for event in events:
        try:
            outcome = event_apply(event=event, delivery=delivery, numbers=numbers)
        except Exception as exc:  # a handler's bug or a lost connection: retry later
            logger.exception("event %s of delivery %s failed", _dedupe_key(event), delivery.pk)
            errors.append(f"{_dedupe_key(event)}: {type(exc).__name__}: {exc}")
            result.failed += 1
            continue
        if outcome is None:
            result.duplicates += 1
        elif outcome == EventOutcome.APPLIED:
            result.applied += 1
        else:
            result.unrouted += 1
    _finish(delivery, errors, now or timezone.now())
    return result


def event_apply(*, event, delivery: Delivery, numbers: dict[str, PhoneNumber]) -> str | None:
    """Record the event's key and run its handlers in one transaction.

    Returns the outcome, or None when the key was already recorded (a duplicate).
    A concurrent worker inserting the same key waits on the unique index until
    this transaction ends, then sees the conflict: the event is applied once.
    """
    handlers = registry.handlers_for(event.kind)
    phone_number = numbers.get(event.phone_number_id) if event.phone_number_id else None
    if not handlers:
        outcome = EventOutcome.NO_HANDLER
    elif phone_number is None and (event.phone_number_id or any(h.needs_phone_number for h in handlers)):
        outcome = EventOutcome.UNKNOWN_NUMBER
    else:
        outcome = EventOutcome.APPLIED
    with transaction.atomic():
        try:
            with transaction.atomic():
                InboxEvent.objects.create(
                    source=delivery.source,
                    dedupe_key=_dedupe_key(event),
                    kind=event.kind,
                    delivery=delivery,
                    phone_number_id=event.phone_number_id or "",
                    outcome=outcome,
                    raw=None if outcome == EventOutcome.APPLIED else _jsonable(event.raw),
                )
        except IntegrityError:
            return None
        if outcome == EventOutcome.APPLIED:
            for handler in handlers:
                handler.func(event, phone_number=phone_number)
    return outcome


def deliveries_redispatch_due(*, now: datetime) -> int:
    """Beat: publish again every pending delivery whose time has come.

    Pushing `next_attempt_at` forward first means a delivery is published once
    per REDISPATCH_AFTER however often beat runs, even if its task is lost again.
    """
    from waco.dispatch import send_task_or_log
    from waco.ingest.tasks import process_delivery

    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:REDISPATCH_BATCH]
        )
        Delivery.objects.filter(pk__in=due).update(next_attempt_at=now + REDISPATCH_AFTER)
    for delivery_id in due:
        send_task_or_log(process_delivery, delivery_id)
    return len(due)


@transaction.atomic
def delivery_rerun(*, delivery: Delivery, now: datetime | None = None) -> None:
    """Staff: give a failed delivery a fresh set of attempts (from the admin)."""
    from waco.dispatch import enqueue_on_commit
    from waco.ingest.tasks import process_delivery

    now = now or timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now + REDISPATCH_AFTER
    )
    enqueue_on_commit(process_delivery, delivery.pk)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter, so many failed deliveries do not retry in step."""
    delay = min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)
    return delay * random.uniform(0.8, 1.2)


def _finish(delivery: Delivery, errors: list[str], now: datetime) -> None:
    if not errors:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.DONE, processed_at=now, last_error=""
        )
        return
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != DeliveryStatus.PENDING:
            return
        locked.attempts += 1
        locked.last_error = "\n".join(errors)[:10_000]
        locked.next_attempt_at = now + retry_delay(locked.attempts)
        if locked.attempts >= MAX_ATTEMPTS:
            locked.status = DeliveryStatus.FAILED
        locked.save(update_fields=["attempts", "last_error", "next_attempt_at", "status"])


def _known_numbers(events: list) -> dict[str, PhoneNumber]:
    ids = {e.phone_number_id for e in events if e.phone_number_id}
    numbers = PhoneNumber.objects.select_related("business_account").filter(graph_id__in=ids)
    return {n.graph_id: n for n in numbers}


def _dedupe_key(event) -> str:
    key = event.dedupe_key
    if len(key) > MAX_KEY_LENGTH:
        key = f"{event.kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _jsonable(raw):
    """The raw value as PostgreSQL's jsonb takes it: JSON types, no NUL characters."""
    if isinstance(raw, str):
        return raw.replace("\x00", "\ufffd")
    if isinstance(raw, dict):
        return {_jsonable(str(k)): _jsonable(v) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)):
        return [_jsonable(v) for v in raw]
    if isinstance(raw, float) and not math.isfinite(raw):
        return repr(raw)  # Python's json reads NaN and Infinity; jsonb refuses them
    if raw is None or isinstance(raw, (int, float, bool)):
        return raw
    return repr(raw)
