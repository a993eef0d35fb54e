"""Statuses from Meta's webhooks: a message moves forward (sent, delivered, read), never back,
with a time for each step; a `failed` status is an outcome like a refused call. A status that
arrives before the send's answer is parked, and applied once the answer names its wamid.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from outbound import outcomes, services
from outbound.models import FAILABLE_STATUSES, STATUS_RANK, MessageStatus, OutboundMessage, ParkedStatus
from waco.cloud_api.errors import ErrorClass
from waco.cloud_api.webhooks import parse_delivery


def status_apply(*, message: OutboundMessage, status: str, at: datetime | None, pricing=None, errors=()) -> bool:
    """Move a message forward by a status webhook; never backwards. Returns whether it changed.

    The caller holds the row lock (select_for_update) inside the event's transaction.
    """
    if status == MessageStatus.FAILED:
        if message.status not in FAILABLE_STATUSES:
            return False  # already delivered or failed: a late failure changes nothing
        return failed_status_apply(message=message, errors=errors, at=at)
    if status not in STATUS_RANK or message.status == MessageStatus.FAILED:
        return False
    times = _record_step_times(message, status, at or timezone.now())
    if STATUS_RANK[MessageStatus(status)] <= STATUS_RANK.get(MessageStatus(message.status), 0):
        _record_pricing(message, pricing)
        message.save(update_fields=["pricing_model", "pricing_type", "pricing_category", *times, "updated_at"])
        return False
    old = message.status
    message.status = status
    message.status_at = at
    _record_pricing(message, pricing)
    message.save(
        update_fields=["status", "status_at", "pricing_model", "pricing_type", "pricing_category", *times, "updated_at"]
    )
    transaction.on_commit(
        lambda: services.message_status_changed.send(sender=OutboundMessage, message=message, old=old, new=status)
    )
    return True


# The steps a status reaches: a later one implies the earlier ones (a `read` was delivered and sent).
STEP_TIME_FIELDS = {
    MessageStatus.SENT: ("sent_at",),
    MessageStatus.DELIVERED: ("sent_at", "delivered_at"),
    MessageStatus.READ: ("sent_at", "delivered_at", "read_at"),
    MessageStatus.PLAYED: ("sent_at", "delivered_at", "read_at"),
}


def _record_step_times(message: OutboundMessage, status: str, at: datetime) -> list[str]:
    """Give each step this status implies the time `at`, unless it has an earlier one.

    Statuses arrive out of order: a `read` before its `delivered` fills both with the read's
    time, and the `delivered` arriving after it brings the earlier, true time. Returns the fields set.
    """
    changed = []
    for field in STEP_TIME_FIELDS.get(status, ()):
        known = getattr(message, field)
        if known is None or at < known:
            setattr(message, field, at)
            changed.append(field)
    return changed


def _record_pricing(message: OutboundMessage, pricing) -> None:
    if pricing is not None:
        message.pricing_model = pricing.pricing_model or message.pricing_model
        message.pricing_type = pricing.type or message.pricing_type
        message.pricing_category = pricing.category or message.pricing_category


def status_park(*, wamid: str, status: str, raw: dict) -> None:
    ParkedStatus.objects.create(wamid=wamid, status=status, raw=raw)


def messages_accepted(*, accepted: list[tuple[int, str]]) -> None:
    """Record wamids, then apply statuses that arrived before them.

    A status webhook may already have found a message by its id and moved it
    on (and set the wamid): only `sending` or `unknown` rows become `accepted`.
    """
    if not accepted:
        return
    now = timezone.now()
    with transaction.atomic():
        for message_id, wamid in accepted:
            OutboundMessage.objects.filter(
                pk=message_id, status__in=(MessageStatus.SENDING, MessageStatus.UNKNOWN)
            ).update(status=MessageStatus.ACCEPTED, wamid=wamid, updated_at=now)
        parked = list(ParkedStatus.objects.select_for_update().filter(wamid__in=[w for _, w in accepted]))
        for status in sorted(parked, key=lambda p: p.pk):
            message = OutboundMessage.objects.select_for_update().filter(wamid=status.wamid).first()
            if message is not None:
                _apply_parked(message, status)
            status.delete()


def _apply_parked(message: OutboundMessage, parked: ParkedStatus) -> None:
    for event in parse_delivery(parked.raw):
        if getattr(event, "message_id", None) == message.wamid and event.kind == "status":
            status_apply(
                message=message, status=event.status, at=event.timestamp, pricing=event.pricing, errors=event.errors
            )


def failed_status_apply(*, message: OutboundMessage, errors, at) -> bool:
    """A `failed` status: fall back to a template on 131047, retry a transient code, else fail."""
    error = next((e for e in errors if e.code is not None), None)
    error_class = error.error_class if error else ErrorClass.UNCLASSIFIED
    if error_class == ErrorClass.WINDOW:
        return outcomes.fall_back_to_template(message, reason="Meta: more than 24 h since the customer's last message")
    if error_class in (ErrorClass.TRANSIENT, ErrorClass.RATE) and message.attempts < outcomes.MAX_ATTEMPTS:
        outcomes.requeue(message, delay=outcomes.backoff(message.attempts))
        return True
    outcomes.fail(
        message,
        code=error.code if error else None,
        error_class=error_class,
        detail=outcomes.errors_text(errors),
        needs_person=error_class in outcomes.NEEDS_PERSON,
    )
    return True
