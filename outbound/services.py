"""The outbox: enqueue through the policy, apply statuses."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from outbound import policy
from outbound.models import (
    FAILABLE_STATUSES,
    STATUS_RANK,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    ParkedStatus,
)
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact

logger = logging.getLogger(__name__)

# Sent after commit-worthy changes of a message's status: kwargs message, old, new.
message_status_changed = Signal()


def message_enqueue(
    *,
    phone_number: PhoneNumber,
    contact: Contact,
    category: str,
    purpose: str,
    content: dict | None = None,
    template_params: dict | None = None,
    dedupe_key: str | None = None,
    subject_type: str = "",
    subject_id: str | int = "",
    now: datetime | None = None,
) -> OutboundMessage:
    """Put a message in the outbox after the policy said how it may go.

    A refusal is stored too, as a failed message with its reason, so the
    thread's history and the admin show what was not sent and why.
    With `dedupe_key`, a second call returns the first message.
    `subject_type`/`subject_id` say what the message is about, in the caller's
    words ("order", its reference); `outbound.selectors.messages_about` finds them.
    """
    from outbound.sending import outbox_ring

    now = now or timezone.now()
    if dedupe_key and (existing := OutboundMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return existing
    message = OutboundMessage(
        phone_number=phone_number,
        contact=contact,
        recipient=contact.wa_id or contact.user_id,
        category=category,
        purpose=purpose,
        dedupe_key=dedupe_key,
        subject_type=subject_type,
        subject_id=str(subject_id),
        next_attempt_at=now,
        content=content or {},
    )
    try:
        decision = policy.decide(
            phone_number=phone_number,
            contact=contact,
            category=category,
            purpose=purpose,
            content=content,
            template_params=template_params,
            now=now,
        )
        message.content, message.template_name = decision.content, decision.template_name
    except policy.PolicyRefusal as refusal:
        message.status = MessageStatus.FAILED
        message.error_class = "policy"
        message.error_detail = refusal.reason
        message.needs_person = refusal.needs_person
    message.template_params = template_params or {}
    if dedupe_key:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:  # a concurrent caller enqueued it first
            return OutboundMessage.objects.get(dedupe_key=dedupe_key)
    else:
        message.save()  # nothing to collide with: no savepoint
    if message.status == MessageStatus.QUEUED:
        transaction.on_commit(lambda: outbox_ring(queue_for(category)))
    elif message.needs_person:
        alert_raise(
            kind="unusable_purpose",
            subject=f"{phone_number.business_account}: {purpose}",
            detail=message.error_detail,
            severity=AlertSeverity.CRITICAL,
        )
    return message


@dataclass(frozen=True)
class ResendResult:
    queued: int
    refused: int


def messages_resend(*, messages, now: datetime | None = None) -> ResendResult:
    """Staff re-send failed messages: each is decided again by the policy, as at enqueue.

    Allowed: queued again with what the policy allows now (free-form in the window,
    else a template of its purpose), its counts reset. Refused: it stays failed, with
    the reason of now. The drain decides once more when it claims the message.
    """
    from outbound.sending import outbox_ring

    now = now or timezone.now()
    queued = refused = 0
    failed = messages.filter(status=MessageStatus.FAILED).select_related("phone_number__business_account", "contact")
    for message in failed:
        try:
            decision = policy.decide(
                phone_number=message.phone_number,
                contact=message.contact,
                category=message.category,
                purpose=message.purpose,
                content=None if message.template_name else message.content,
                template_params=message.template_params,
                now=now,
            )
        except policy.PolicyRefusal as refusal:
            OutboundMessage.objects.filter(pk=message.pk).update(
                error_class="policy",
                error_detail=f"re-send refused: {refusal.reason}"[:2000],
                needs_person=refusal.needs_person,
            )
            refused += 1
            continue
        OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED,
            content=decision.content,
            template_name=decision.template_name,
            needs_person=False,
            next_attempt_at=now,
            wamid=None,
            attempts=0,
            rate_limit_retries=0,
            error_code=None,
            error_class="",
            error_detail="",
        )
        transaction.on_commit(lambda category=message.category: outbox_ring(queue_for(category)))
        queued += 1
    return ResendResult(queued=queued, refused=refused)


def queue_for(category: str) -> str:
    from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE

    return QUEUE_MARKETING if category == MessageCategory.MARKETING else QUEUE_SERVICE


# --- statuses ---------------------------------------------------------------------------


def status_apply(*, message: OutboundMessage, status: str, at: datetime | None, pricing=None, errors=()) -> bool:
    """Move a message forward by a status webhook; never backwards. Returns whether it changed.

    The caller holds the row lock (select_for_update) inside the event's transaction.
    """
    if status == MessageStatus.FAILED:
        from outbound.sending import failed_status_apply

        if message.status not in FAILABLE_STATUSES:
            return False  # already delivered or failed: a late failure changes nothing
        return failed_status_apply(message=message, errors=errors, at=at)
    if status not in STATUS_RANK or message.status == MessageStatus.FAILED:
        return False
    if STATUS_RANK[MessageStatus(status)] <= STATUS_RANK.get(MessageStatus(message.status), 0):
        _record_pricing(message, pricing)
        message.save(update_fields=["pricing_model", "pricing_type", "pricing_category", "updated_at"])
        return False
    old = message.status
    message.status = status
    message.status_at = at
    _record_pricing(message, pricing)
    message.save(
        update_fields=["status", "status_at", "pricing_model", "pricing_type", "pricing_category", "updated_at"]
    )
    transaction.on_commit(
        lambda: message_status_changed.send(sender=OutboundMessage, message=message, old=old, new=status)
    )
    return True


def _record_pricing(message: OutboundMessage, pricing) -> None:
    if pricing is not None:
        message.pricing_model = pricing.pricing_model or message.pricing_model
        message.pricing_type = pricing.type or message.pricing_type
        message.pricing_category = pricing.category or message.pricing_category


def status_park(*, wamid: str, status: str, raw: dict) -> None:
    ParkedStatus.objects.create(wamid=wamid, status=status, raw=raw)
