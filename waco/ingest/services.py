"""Processing a stored delivery: split it into events and apply each exactly once.

Storing deliveries and waking workers is waco.ingest.inbox.
"""

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from waco.backoff import backoff_delay
from waco.channels.models import PhoneNumber
from waco.cloud_api.webhooks import parse_delivery
from waco.ingest import registry
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
    """Apply every event of a delivery; safe to run twice or concurrently.

    Each event commits on its own, so a failing event does not hold back the
    others; the delivery stays pending, due again after a backoff, until all are done.
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


def retry_delay(attempts: int) -> timedelta:
    return backoff_delay(attempts, base=RETRY_BASE, cap=RETRY_MAX)


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
