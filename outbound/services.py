"""The outbox: enqueue through the policy, re-send failed messages, ring the drains.

One direction in outbound: statuses -> outcomes -> services (this module), and sending -> all three.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from outbound import policy
from outbound.failures import messages_failed_report
from outbound.models import (
    MessageCategory,
    MessageStatus,
    OutboundMedia,
    OutboundMessage,
)
from templates_lib.models import Template
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE
from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact
from waco.dispatch import send_task_or_log
from waco.doorbell import doorbell_ring

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
    media: OutboundMedia | None = None,
    keep_refusal: bool = True,
    now: datetime | None = None,
) -> OutboundMessage:
    """Put a message in the outbox after the policy said how it may go.

    A refusal is stored too, as a failed message with its reason, so the
    thread's history and the admin show what was not sent and why; with
    `keep_refusal=False` (the REST API answers the refusal) it is raised
    as policy.PolicyRefusal and nothing is stored.
    `template` names the template to send instead of the purpose's chain.
    `media` is the file an image or document `content` carries (outbound.attachments).
    With `dedupe_key`, a second call returns the first message.
    `subject_type`/`subject_id` say what the message is about, in the caller's
    words ("order", its reference); `outbound.selectors.messages_about` finds them.
    """
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
        media=media,
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
                messages_failed_report([message] if message.status == MessageStatus.FAILED else [], now=now)
        except IntegrityError:  # a concurrent caller enqueued it first
            return OutboundMessage.objects.get(dedupe_key=dedupe_key)
    elif message.status == MessageStatus.FAILED:
        with transaction.atomic():
            message.save()
            messages_failed_report([message], now=now)
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
    return QUEUE_MARKETING if category == MessageCategory.MARKETING else QUEUE_SERVICE


# --- ringing the drains ----------------------------------------------------------------

# Requeued messages due within this get a delayed drain of their own; later ones wait for beat's sweep.
WAKE_LATER_MAX = timedelta(minutes=5)


def doorbell_key(queue: str) -> str:
    return f"waco:outbound:{queue}:drain-requested"


def outbox_ring(queue: str, *, force: bool = False) -> bool | None:
    """Ask for a drain of the queue (at most one waits at a time: the doorbell)."""
    from outbound.tasks import drain_outbox  # cycle: outbound.tasks imports this module

    return doorbell_ring(key=doorbell_key(queue), task=drain_outbox.s(queue).set(queue=queue), force=force)


def outbox_ring_later(queue: str, delay: timedelta) -> bool | None:
    """Wake a drain when a requeued message falls due; nobody rings for it otherwise.

    Only short waits become delayed tasks (a broker holds them in memory, and past its
    visibility timeout would hand them out twice); beat's sweep wakes the long ones.
    """
    if delay > WAKE_LATER_MAX:
        return None
    from outbound.tasks import drain_outbox  # cycle: outbound.tasks imports this module

    wake = drain_outbox.s(queue).set(queue=queue, countdown=max(0.0, delay.total_seconds()))
    return True if send_task_or_log(wake) else None
