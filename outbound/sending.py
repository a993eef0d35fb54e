"""Draining the outbox: claim due rows within the rate limit, send, record what came of it.

Throughput comes from batches: rows are claimed with SKIP LOCKED and marked
`sending` in one statement that commits before any HTTP call, so a crash after
the call never sends a message twice silently (it stays `sending`, then
becomes `unknown`). One drain task works many messages; see waco.doorbell.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone

from outbound import attachments, outcomes, policy, ratelimit, services, statuses
from outbound.failures import messages_failed_report
from outbound.models import (
    GraphEdge,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    SendAttempt,
    SendOutcome,
)
from templates_lib.models import Template, TemplateCategory
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE
from waco.channels import services as channels
from waco.channels.models import PhoneNumber
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import PAIR_RATE_LIMIT_CODE, ErrorClass, GraphError
from waco.cloud_api.recipients import recipient_fields
from waco.contacts.wa_ids import SendAnswer, wa_ids_from_send_answers
from waco.doorbell import doorbell_silence

logger = logging.getLogger(__name__)

QUEUE_CATEGORIES = {
    QUEUE_SERVICE: [MessageCategory.SERVICE, MessageCategory.UTILITY, MessageCategory.AUTHENTICATION],
    QUEUE_MARKETING: [MessageCategory.MARKETING],
}
CLAIM_BATCH = 100
# Graph calls in flight per drain (the shared session pools 64 connections per host).
SEND_CONCURRENCY = 16
# A message left `sending` this long (its worker died mid-call) becomes `unknown`.
SENDING_LEASE = timedelta(minutes=2)
DRAIN_TIME_BUDGET_SECONDS = 20
# How long a drain waits at least when the limiter holds every due message back (1/80 s is Meta's default pace).
RATE_WAIT_SECONDS = 0.0125
# A longer wait (a number cooling down after 130429) frees the worker: a delayed drain comes back.
LONG_WAIT_SECONDS = 0.5
# Rate-limit answers are not attempts (the message did nothing wrong); after this many retries a person looks.
MAX_RATE_LIMIT_RETRIES = 10
# 131049: Meta's per-user marketing limit; retrying within a day only fails again.
LATER_RETRY = timedelta(hours=24)
# Template refusals that a different template of the chain may get past.
TEMPLATE_FALLBACK_CODES = {132001, 132015, 132016}


def outbox_drain(*, queue: str) -> int:
    """Send due messages of this queue until none is left, the limiter says wait, or time is up."""
    doorbell_silence(key=services.doorbell_key(queue))
    sent = 0
    deadline = time.monotonic() + DRAIN_TIME_BUDGET_SECONDS
    while time.monotonic() < deadline:
        messages, wait = outbox_claim(queue=queue, now=timezone.now())
        if not messages and wait is None:
            return sent
        if not messages and wait > LONG_WAIT_SECONDS:  # a number cooling down: free the worker meanwhile
            services.outbox_ring_later(queue, timedelta(seconds=wait))
            return sent
        if not messages:
            time.sleep(max(wait, RATE_WAIT_SECONDS))  # due messages wait for the limiter: claim again shortly
            continue
        messages_send(messages=messages)
        sent += len(messages)
    services.outbox_ring(queue, force=True)
    return sent


def outbox_claim(*, queue: str, now: datetime, limit: int = CLAIM_BATCH) -> tuple[list[OutboundMessage], float | None]:
    """Lease due messages, as many per number as its rate limit grants now, and decide
    them again with their customers' consent and windows of now (policy.recheck).

    Also says how long until the limiter lets more of the due messages go (None: none held back).
    """
    due = (
        OutboundMessage.objects.filter(
            status=MessageStatus.QUEUED,
            next_attempt_at__lte=now,
            category__in=QUEUE_CATEGORIES[queue],
            phone_number__sending_paused=False,
        )
        .values("phone_number")
        .annotate(waiting=Count("id"))
    )
    claimed, wait = [], None
    numbers = PhoneNumber.objects.in_bulk([row["phone_number"] for row in due])
    for row in due:
        wanted = min(row["waiting"], limit)
        grant = ratelimit.number_take(phone_number=numbers[row["phone_number"]], count=wanted)
        if grant.granted < wanted:
            wait = grant.retry_after if wait is None else min(wait, grant.retry_after)
        if grant.granted:
            claimed += _claim_for_number(number_id=row["phone_number"], queue=queue, now=now, count=grant.granted)
    return claimed, wait


def _claim_for_number(*, number_id: int, queue: str, now: datetime, count: int) -> list[OutboundMessage]:
    with transaction.atomic(savepoint=False):  # commits before any call; a drain has no transaction around it
        ids = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(
                phone_number_id=number_id,
                status=MessageStatus.QUEUED,
                next_attempt_at__lte=now,
                category__in=QUEUE_CATEGORIES[queue],
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:count]
        )
        OutboundMessage.objects.filter(pk__in=ids).update(
            status=MessageStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE
        )
    claimed = policy.with_facts(  # the customers' consent and windows come with the rows: one query
        OutboundMessage.objects.select_related("phone_number__business_account", "contact", "media").filter(pk__in=ids)
    )
    return _decide_again(list(_with_template_category(claimed).order_by("pk")), now=now)


# --- which edge a message goes to ----------------------------------------------------------


def _template_category_query(*, business_account, name, language):
    """The category Meta last completed for a template (an announced change waits in category_pending)."""
    template = Template.objects.filter(business_account=business_account, name=name, language=language)
    return template.values("category")[:1]


def _with_template_category(messages):
    """Each template message's category in force, in the claim's own query: no query per message."""
    return messages.annotate(send_template_language=KT("content__template__language__code")).annotate(
        send_template_category=Subquery(
            _template_category_query(
                business_account=OuterRef("phone_number__business_account"),
                name=OuterRef("template_name"),
                language=OuterRef("send_template_language"),
            )
        )
    )


def _edge_for(message: OutboundMessage) -> str:
    """Meta's Marketing Messages API takes marketing templates only: an account that has it sends
    them there, routed by the category in force, and everything else (utility, authentication,
    free-form, interactive) to /messages."""
    if (
        message.phone_number.business_account.marketing_messages_api
        and message.content.get("type") == "template"
        and message.send_template_category == TemplateCategory.MARKETING
    ):
        return GraphEdge.MARKETING_MESSAGES
    return GraphEdge.MESSAGES


def _decide_again(messages: list[OutboundMessage], *, now: datetime) -> list[OutboundMessage]:
    """The claimed messages that may still go, a template standing in where the window closed
    while a free-form one waited; the others fail with the policy's reason, before any call."""
    going, refused = [], {}
    for message in messages:
        try:
            decision = policy.recheck(message=message, facts=policy.facts_of(message), now=now)
        except policy.PolicyRefusal as refusal:
            refused.setdefault((refusal.reason, refusal.needs_person), []).append(message)
            continue
        if decision is not None:
            message.content, message.template_name = decision.content, decision.template_name
            # A template stands in for the free-form message: its category, read once (a rare path).
            row = _template_category_query(
                business_account=message.phone_number.business_account,
                name=decision.template_name,
                language=decision.content["template"]["language"]["code"],
            ).first()
            message.send_template_category = row["category"] if row else None
            OutboundMessage.objects.filter(pk=message.pk).update(
                content=decision.content,
                template_name=decision.template_name,
                template_version=decision.template_version,
                error_detail="the service window closed while the message waited",
            )
        going.append(message)
    if not refused:
        return going
    # The failures and their events together; no savepoint: a drain has no transaction around it.
    with transaction.atomic(savepoint=False):
        for (reason, needs_person), group in refused.items():
            failure = {
                "status": MessageStatus.FAILED,
                "failed_at": now,
                "updated_at": now,
                "error_class": "policy",
                "error_detail": f"at send time: {reason}"[:2000],
                "needs_person": needs_person,
            }
            OutboundMessage.objects.filter(pk__in=[m.pk for m in group]).update(**failure)
            for message in group:
                for name, value in failure.items():
                    setattr(message, name, value)
        messages_failed_report([m for group in refused.values() for m in group], now=now)
    for (reason, needs_person), group in refused.items():
        for subject in {f"{m.phone_number.business_account}: {m.purpose}" for m in group if needs_person}:
            alert_raise(kind="unusable_purpose", subject=subject, detail=reason, severity=AlertSeverity.CRITICAL)
    return going


def messages_send(*, messages: list[OutboundMessage]) -> None:
    """One Graph call per claimed (`sending`) message, outcomes recorded per batch. Never resends.

    Calls to different recipients overlap (Meta answers in 100-300 ms, so one
    call at a time would cap a drain at a few messages a second); one
    recipient's messages go one after another, in claim order. Only the HTTP
    calls leave this thread: the limiter and every database write stay here.
    """
    clients: dict[int, GraphClient] = {}
    chains: dict[tuple[int, str], list[tuple[OutboundMessage, GraphClient]]] = {}
    for message in messages:
        pair = ratelimit.pair_acquire(phone_number=message.phone_number, recipient=message.recipient)
        if not pair.allowed:
            outcomes.requeue(message, delay=timedelta(seconds=pair.retry_after), count_attempt=False)
            continue
        account = message.phone_number.business_account
        message.graph_edge = _edge_for(message)
        if account.pk not in clients:  # the token is decrypted once per batch, not per message
            clients[account.pk] = GraphClient(access_token=account.access_token)
        chains.setdefault((message.phone_number_id, message.recipient), []).append((message, clients[account.pk]))
    if not chains:
        return
    batch_started = timezone.now()
    if len(chains) == 1:  # one recipient: no thread to start
        calls = _chain_send(next(iter(chains.values())))
    else:
        with ThreadPoolExecutor(max_workers=min(SEND_CONCURRENCY, len(chains))) as pool:
            calls = [call for chain in pool.map(_chain_send, chains.values()) for call in chain]
    cooling = _report_to_numbers(calls)
    attempts, accepted = [], []
    for message, started, duration_ms, result in sorted(calls, key=lambda call: call[0].pk):
        if isinstance(result, GraphError):
            attempts.append(_attempt(message, started, duration_ms, _error_outcome(result), error=result))
            if _is_rate(result):
                _on_rate(message=message, error=result, cooling=cooling.get(message.phone_number_id, 0.0))
            else:
                SEND_ERROR_HANDLERS[result.error_class](message=message, error=result)
        else:
            attempts.append(_attempt(message, started, duration_ms, SendOutcome.ACCEPTED, wamid=result.wamid))
            accepted.append((message.pk, result.wamid))
    SendAttempt.objects.bulk_create(attempts)
    _edges_record(calls)
    attachments.uploads_record([call[0] for call in calls], since=batch_started)
    statuses.messages_accepted(accepted=accepted)
    wa_ids_from_send_answers(  # Meta's wa_id for a number it knows otherwise (Brazil, Mexico)
        SendAnswer(contact_id=call[0].contact_id, sent_to=call[0].recipient, wa_id=call[3].wa_id, wamid=call[3].wamid)
        for call in calls
        if not isinstance(call[3], GraphError)
    )


def _edges_record(calls: list[tuple]) -> None:
    """Where each call went, for the admin and the API: one update per edge used in the batch."""
    by_edge: dict[str, list[int]] = {}
    for call in calls:
        by_edge.setdefault(call[0].graph_edge, []).append(call[0].pk)
    for edge, pks in by_edge.items():
        OutboundMessage.objects.filter(pk__in=pks).update(graph_edge=edge)


def _is_rate(result) -> bool:
    return isinstance(result, GraphError) and result.error_class == ErrorClass.RATE


def _report_to_numbers(calls: list[tuple]) -> dict[int, float]:
    """Tell each number's cool-down how its calls went; returns the seconds each throttled number cools.

    A rate limit other than the pair's (131056) is Meta's for the whole number: it cools
    down, for every worker. An accepted call after a cool-down (the probe) ends it.
    """
    numbers = {call[0].phone_number_id: call[0].phone_number for call in calls}
    throttled = {c[0].phone_number_id for c in calls if _is_rate(c[3]) and c[3].code != PAIR_RATE_LIMIT_CODE}
    accepted = {c[0].phone_number_id for c in calls if not isinstance(c[3], GraphError)}
    for number_id in accepted - throttled:
        ratelimit.number_clean(phone_number=numbers[number_id])
    return {number_id: ratelimit.number_throttled(phone_number=numbers[number_id]) for number_id in throttled}


def _chain_send(chain: list[tuple[OutboundMessage, GraphClient]]) -> list[tuple]:
    """One recipient's messages, in order: (message, started, duration_ms, result or GraphError)."""
    calls = []
    for message, client in chain:
        # The phone in `to`, or the BSUID in `recipient`: Meta silently drops a BSUID sent in `to`.
        addressing = recipient_fields(message.recipient)
        started, clock = timezone.now(), time.monotonic()
        try:
            content = attachments.content_with_media(message, client, now=started)  # uploads a staff file first
            payload = {**addressing, **content, "biz_opaque_callback_data": str(message.pk)}
            result = client.send_message(message.phone_number.graph_id, payload, edge=message.graph_edge)
        except GraphError as error:
            result = error
        calls.append((message, started, int((time.monotonic() - clock) * 1000), result))
    return calls


# --- outcomes of a send ------------------------------------------------------------------


def _error_outcome(error: GraphError) -> str:
    if error.error_class == ErrorClass.TRANSIENT and error.may_have_left:
        return SendOutcome.UNKNOWN
    if error.error_class == ErrorClass.TRANSIENT and error.code is None:
        return SendOutcome.NOT_SENT
    return SendOutcome.ERROR


def _on_rate(*, message, error, cooling: float):
    """131056 is this recipient only: the pair bucket's pace. Others: the message waits for
    its number's cool-down. After MAX_RATE_LIMIT_RETRIES retries a person looks at why."""
    if message.rate_limit_retries >= MAX_RATE_LIMIT_RETRIES:
        detail = f"rate-limited after {message.rate_limit_retries} retries ({error.code}: {error}); not retried again"
        outcomes.fail(message, code=error.code, error_class=error.error_class, detail=detail, needs_person=True)
        alert_raise(
            kind="rate_limited",
            subject=str(message.phone_number),
            detail=f"message {message.pk} to {message.recipient}: {detail}",
            severity=AlertSeverity.WARNING,
        )
        return
    delay = timedelta(seconds=6) if error.code == PAIR_RATE_LIMIT_CODE else timedelta(seconds=cooling)
    outcomes.requeue(message, delay=delay, count_attempt=False, rate_limited=True)


def _on_transient(*, message, error):
    if error.may_have_left:
        outcomes.mark_unknown(message, error)
    elif message.attempts >= outcomes.MAX_ATTEMPTS:
        outcomes.fail(message, code=error.code, error_class=error.error_class, detail=str(error), needs_person=True)
    else:
        outcomes.requeue(message, delay=outcomes.backoff(message.attempts))


def _on_later(*, message, error):
    outcomes.requeue(message, delay=LATER_RETRY, count_attempt=False)


def _on_window(*, message, error):
    outcomes.fall_back_to_template(message, reason=str(error))


def _on_template(*, message, error):
    if error.code in TEMPLATE_FALLBACK_CODES and message.template_name:
        outcomes.fall_back_to_template(message, reason=str(error), exclude=(message.template_name,))
    else:
        outcomes.fail(message, code=error.code, error_class=error.error_class, detail=str(error), needs_person=True)


def _on_auth(*, message, error):
    """The token no longer works: stop the number, keep the message queued for after the fix."""
    number = message.phone_number
    channels.phone_number_pause_sending(
        phone_number=number, reason=f"{channels.AUTH_PAUSE_PREFIX} {error.code}: {error}"
    )
    alert_raise(kind="number_paused", subject=str(number), detail=str(error), severity=AlertSeverity.CRITICAL)
    outcomes.requeue(message, delay=timedelta(0), count_attempt=False)


def _on_integrity(*, message, error):
    number = message.phone_number
    channels.phone_number_pause_sending(phone_number=number, reason=f"Meta integrity error {error.code}: {error}")
    alert_raise(kind="integrity", subject=str(number), detail=str(error), severity=AlertSeverity.CRITICAL)
    outcomes.fail(message, code=error.code, error_class=error.error_class, detail=str(error), needs_person=True)


def _on_permanent(*, message, error):
    outcomes.fail(
        message,
        code=error.code,
        error_class=error.error_class,
        detail=str(error),
        needs_person=error.error_class in outcomes.NEEDS_PERSON,
    )


SEND_ERROR_HANDLERS = {  # a rate limit (ErrorClass.RATE) goes to _on_rate with its number's cool-down
    ErrorClass.TRANSIENT: _on_transient,
    ErrorClass.LATER: _on_later,
    ErrorClass.WINDOW: _on_window,
    ErrorClass.TEMPLATE: _on_template,
    ErrorClass.RECIPIENT: _on_permanent,
    ErrorClass.REQUEST: _on_permanent,
    ErrorClass.AUTH: _on_auth,
    ErrorClass.INTEGRITY: _on_integrity,
    ErrorClass.UNCLASSIFIED: _on_permanent,
}


def _attempt(
    message, started, duration_ms, outcome, *, error: GraphError | None = None, wamid: str = ""
) -> SendAttempt:
    return SendAttempt(
        message=message,
        started_at=started,
        duration_ms=duration_ms,
        outcome=outcome,
        wamid=wamid,
        error_code=error.code if error else None,
        error_class=error.error_class if error else "",
        detail=str(error)[:2000] if error else "",
    )
