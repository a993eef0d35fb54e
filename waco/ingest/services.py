"""Processing a stored delivery: split it into events and apply each exactly once.

Storing deliveries and waking workers is waco.ingest.inbox.
"""

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay
from waco.channels.models import PhoneNumber
from waco.cloud_api.webhooks import parse_delivery
from waco.ingest import registry, signatures
from waco.ingest.models import Delivery, DeliverySource, DeliveryStatus, EventOutcome, InboxEvent

logger = logging.getLogger(__name__)

# Meta retries undelivered webhooks for days, so we keep trying too, then stop
# and show the delivery as failed in the admin for a person to re-run.
MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
# The longest dedupe key the column takes; longer keys are hashed.
MAX_KEY_LENGTH = 255

# How each source's stored body becomes typed events. Stripe's parser is added
# by checkout through `register_parser`.
_parsers: dict[str, Callable[[str], list]] = {DeliverySource.META: parse_delivery}


def register_parser(source: str, parser: Callable[[str], list]) -> None:
    _parsers[source] = parser


@dataclass
class ProcessResult:
    applied: int = 0
    duplicates: int = 0
    unrouted: int = 0
    failed: int = 0


def delivery_process(*, delivery_id: int, now: datetime | None = None) -> ProcessResult:
    """Apply every event of a delivery; safe to run twice or concurrently."""
    return deliveries_process(delivery_ids=[delivery_id], now=now)


def deliveries_process(*, delivery_ids: list[int], now: datetime | None = None) -> ProcessResult:
    """Apply every event of these deliveries, oldest first; safe to run twice or concurrently.

    Each event commits on its own, so a failing event does not hold back the
    others; its delivery stays pending, due again after a backoff, until all
    are done. The deliveries and their phone numbers are read in one query
    each, and the clean ones marked done in one UPDATE: a status webhook is
    little more than that overhead.
    """
    result = ProcessResult()
    pending = Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.PENDING).order_by("pk")
    deliveries = [(delivery, _parsers[delivery.source](delivery.body)) for delivery in pending]
    numbers = _known_numbers([event for _, events in deliveries for event in events])
    done = []
    for delivery, events in deliveries:
        errors = _events_apply(delivery, events, numbers, result)
        if errors:
            _retry_later(delivery, errors, now or timezone.now())
        else:
            done.append(delivery.pk)
    Delivery.objects.filter(pk__in=done, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DONE, processed_at=now or timezone.now(), last_error=""
    )
    _signatures_passed([delivery for delivery, _ in deliveries])
    for hook in registry.after_batch_hooks():
        try:
            hook()
        except Exception:  # what a hook does is never worth failing the batch for
            logger.exception("after-batch hook %s failed", hook)
    return result


def _events_apply(delivery: Delivery, events: list, numbers: dict, result: ProcessResult) -> list[str]:
    """Apply each event of one delivery, counting outcomes; returns the failures."""
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
    return errors


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
        recorded = _event_record(
            event=event,
            delivery=delivery,
            outcome=outcome,
            raw=None if outcome == EventOutcome.APPLIED else _jsonable(event.raw),
        )
        if not recorded:
            return None
        if outcome == EventOutcome.APPLIED:
            for handler in handlers:
                handler.func(event, phone_number=phone_number)
    return outcome


def _event_record(*, event, delivery: Delivery, outcome: str, raw) -> bool:
    """INSERT the event's key unless it is there; False for a duplicate.

    ON CONFLICT rather than catching IntegrityError: no savepoint, two round trips
    fewer for every event (this runs for each of Meta's 4-5 webhooks per message).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboxEvent._meta.db_table}"
            " (source, dedupe_key, kind, delivery_id, phone_number_id, outcome, raw, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [
                delivery.source,
                _dedupe_key(event),
                event.kind,
                delivery.pk,
                event.phone_number_id or "",
                outcome,
                None if raw is None else json.dumps(raw),
                timezone.now(),
            ],
        )
        return cursor.fetchone() is not None


def retry_delay(attempts: int) -> timedelta:
    return backoff_delay(attempts, base=RETRY_BASE, cap=RETRY_MAX)


def _retry_later(delivery: Delivery, errors: list[str], now: datetime) -> None:
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
        if locked.status == DeliveryStatus.FAILED:
            _alert_failed(locked)


def _alert_failed(delivery: Delivery) -> None:
    """One alert per source, refreshed by each delivery that fails after it: a bug that fails
    every delivery mails staff once, not once per webhook."""
    alert_raise(
        kind="delivery_failed",
        subject=f"{delivery.get_source_display()} webhook deliveries",
        severity=AlertSeverity.CRITICAL,
        detail=f"Delivery {delivery.pk} failed {delivery.attempts} times and is no longer retried. Fix the cause, "
        f"then re-run the failed deliveries from the admin (Ingest > Deliveries).\n\n{delivery.last_error}",
    )


def _signatures_passed(deliveries: list[Delivery]) -> None:
    """Each stored delivery passed its signature check: the secret works again for its source."""
    latest = {}
    for delivery in deliveries:
        latest[delivery.source] = max(latest.get(delivery.source, delivery.received_at), delivery.received_at)
    for source, received_at in latest.items():
        signatures.signed_deliveries_processed(source=source, latest_received_at=received_at)


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
