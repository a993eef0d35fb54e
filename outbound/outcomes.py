"""What becomes of a message after a Graph call or a status webhook: queued again (now or
later), sent as a template instead, unknown (it may have left), or failed with its reason.

Sending (a call's answer) and statuses (Meta's later word) both end here; this module knows
neither of them.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outbound import policy, services
from outbound.failures import messages_failed_report
from outbound.models import MessageStatus, OutboundMessage
from waco.backoff import backoff_delay
from waco.cloud_api.errors import ErrorClass, GraphError

RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=30)
MAX_ATTEMPTS = 10
# An `unknown` outcome waits this long for a status webhook, then fails and alerts.
UNKNOWN_GIVE_UP_AFTER = timedelta(hours=1)
# Refusals a person must look at (the others are the customer's side, or retried).
NEEDS_PERSON = {ErrorClass.REQUEST, ErrorClass.UNCLASSIFIED, ErrorClass.INTEGRITY, ErrorClass.TEMPLATE}


def fall_back_to_template(message: OutboundMessage, *, reason: str, exclude: tuple[str, ...] = ()) -> bool:
    try:
        decision = policy.decide(
            phone_number=message.phone_number,
            contact=message.contact,
            category=message.category,
            purpose=message.purpose,
            content=None,
            template_params=message.template_params,
            now=timezone.now(),
            exclude_templates=exclude,
            window_closed=True,
        )
    except policy.PolicyRefusal as refusal:
        fail(
            message,
            code=None,
            error_class="policy",
            detail=f"{reason}; {refusal.reason}",
            needs_person=refusal.needs_person,
        )
        return True
    OutboundMessage.objects.filter(pk=message.pk).update(
        content=decision.content,
        template_name=decision.template_name,
        template_version=decision.template_version,
        wamid=None,
        status=MessageStatus.QUEUED,
        next_attempt_at=timezone.now(),
        error_detail=reason[:2000],
    )
    transaction.on_commit(lambda: services.outbox_ring(services.queue_for(message.category)))
    return True


def requeue(
    message: OutboundMessage, *, delay: timedelta, count_attempt: bool = True, rate_limited: bool = False
) -> None:
    changes = {"status": MessageStatus.QUEUED, "next_attempt_at": timezone.now() + delay, "wamid": None}
    if not count_attempt:
        changes["attempts"] = F("attempts") - 1
    if rate_limited:
        changes["rate_limit_retries"] = F("rate_limit_retries") + 1
    OutboundMessage.objects.filter(pk=message.pk).update(**changes)
    queue = services.queue_for(message.category)
    transaction.on_commit(lambda: services.outbox_ring_later(queue, delay))


def mark_unknown(message: OutboundMessage, error: GraphError) -> None:
    OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.UNKNOWN,
        error_class=error.error_class,
        error_detail=str(error)[:2000],
        next_attempt_at=timezone.now() + UNKNOWN_GIVE_UP_AFTER,
    )


def fail(message: OutboundMessage, *, code, error_class: str, detail: str, needs_person: bool) -> None:
    now = timezone.now()
    failure = {
        "status": MessageStatus.FAILED,
        "failed_at": now,
        "updated_at": now,  # update() skips auto_now; API clients poll by updated_at
        "error_code": code,
        "error_class": error_class,
        "error_detail": detail[:2000],
        "needs_person": needs_person,
    }
    with transaction.atomic():  # the failure and its event together
        OutboundMessage.objects.filter(pk=message.pk).update(**failure)
        for name, value in failure.items():
            setattr(message, name, value)
        messages_failed_report([message], now=now)


def backoff(attempts: int) -> timedelta:
    return backoff_delay(attempts, base=RETRY_BASE, cap=RETRY_MAX, jitter=0.5)


def errors_text(errors) -> str:
    return "; ".join(f"{e.code} {e.title or e.message or ''}".strip() for e in errors)[:2000]
