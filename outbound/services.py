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
from templates_lib.models import Template
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
    template: Template | None = None,
    keep_refusal: bool = True,
    now: datetime | None = None,
) -> OutboundMessage:
    """Put a message in the outbox after the policy said how it may go.

    A refusal is stored too, as a failed message with its reason, so the
    thread's history and the admin show what was not sent and why; with
    `keep_refusal=False` (the REST API answers the refusal) it is raised
    as policy.PolicyRefusal and nothing is stored.
    `template` names the template to send instead of the purpose's chain.
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
        decision = _decision(message, template=template, content=content, template_params=template_params, now=now)
        message.content, message.template_name = decision.content, decision.template_name
        message.template_version = decision.template_version
    except policy.PolicyRefusal as refusal:
        if not keep_refusal:
            raise
        message.status, message.failed_at = MessageStatus.FAILED, now
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


def _decision(message: OutboundMessage, *, template, content, template_params, now) -> policy.Decision:
    if template is not None:
        return policy.decide_template(
            phone_number=message.phone_number,
            contact=message.contact,
            template=template,
            params=template_params or {},
            now=now,
        )
    return policy.decide(
        phone_number=message.phone_number,
        contact=message.contact,
        category=message.category,
        purpose=message.purpose,
        content=content,
        template_params=template_params,
        now=now,
    )


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
            template_version=decision.template_version,
            failed_at=None,
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
        lambda: message_status_changed.send(sender=OutboundMessage, message=message, old=old, new=status)
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
