"""Beat's outbox sweep: nothing queued is forgotten, nothing unknown stays unknown."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from outbound.failures import messages_failed_report
from outbound.models import MessageStatus, OutboundMessage, ParkedStatus
from outbound.outcomes import UNKNOWN_GIVE_UP_AFTER
from outbound.sending import QUEUE_CATEGORIES
from outbound.services import outbox_ring
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise

# A status for a wamid we never recorded is kept this long, then dropped.
PARKED_STATUS_TTL = timedelta(days=2)


def outbox_sweep(*, now: datetime) -> dict:
    """Recover what a lost message or a dead worker left; `now` comes from the caller."""
    # A worker died between claiming and recording: the request may have left.
    stale_sending = OutboundMessage.objects.filter(status=MessageStatus.SENDING, next_attempt_at__lte=now).update(
        status=MessageStatus.UNKNOWN,
        error_detail="the worker stopped during the send",
        next_attempt_at=now + UNKNOWN_GIVE_UP_AFTER,
    )
    gave_up = 0
    for message in OutboundMessage.objects.filter(status=MessageStatus.UNKNOWN, next_attempt_at__lte=now):
        failure = {
            "status": MessageStatus.FAILED,
            "failed_at": now,
            "updated_at": now,
            "needs_person": True,
            "error_detail": f"no status from Meta within {UNKNOWN_GIVE_UP_AFTER}; not resent, it may have arrived",
        }
        with transaction.atomic():
            updated = OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.UNKNOWN).update(**failure)
            for name, value in failure.items():
                setattr(message, name, value)
            messages_failed_report([message] if updated else [], now=now)
        if updated:
            gave_up += 1
            alert_raise(
                kind="unknown_outcome",
                subject=f"message {message.pk} to {message.recipient}",
                detail="The send may or may not have reached the customer.",
                severity=AlertSeverity.WARNING,
            )
    woken = []
    for queue, categories in QUEUE_CATEGORIES.items():
        due = OutboundMessage.objects.filter(
            Q(status=MessageStatus.QUEUED),
            next_attempt_at__lte=now,
            category__in=categories,
            phone_number__sending_paused=False,
        )
        if due.exists() and outbox_ring(queue, force=True):
            woken.append(queue)
    dropped, _ = ParkedStatus.objects.filter(received_at__lt=now - PARKED_STATUS_TTL).delete()
    return {"unknown": stale_sending, "gave_up": gave_up, "woken": woken, "parked_dropped": dropped}
