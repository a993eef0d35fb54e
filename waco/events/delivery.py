"""Delivering events: claim due deliveries, post them signed, record each attempt, retry for three days.

The delivery rows are the queue (waco.doorbell): a commit that made deliveries rings a drain, and
beat's sweep rings for any due row a lost message or a killed worker left. A drain claims rows with
SKIP LOCKED and leases them (next_attempt_at moves past the longest a batch can take), so a worker
killed mid-post leaves a row that falls due again when the lease ends: at least once, never lost.
The receiver dedupes on `webhook-id` (the event id) and orders by `sequence` per subject.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay
from waco.dispatch import send_task_or_log
from waco.doorbell import doorbell_ring, doorbell_silence
from waco.events import signing
from waco.events.addresses import UrlRefused, target_resolve
from waco.events.models import Delivery, DeliveryAttempt, DeliveryState, WebhookEndpoint
from waco.events.posting import PostResult, post

logger = logging.getLogger(__name__)

DOORBELL_KEY = "waco:events:drain-requested"
# Posts in flight per drain; a claim takes this many, so a batch lasts at most one timeout.
POST_CONCURRENCY = 8
DRAIN_TIME_BUDGET_SECONDS = 20
RETRY_FOR = timedelta(days=3)
RETRY_CAP = timedelta(hours=3)
# An endpoint whose every attempt failed for this long is disabled, with an alert.
DISABLE_AFTER = timedelta(days=3)
# Retries due within this get a delayed drain of their own; later ones wait for beat's sweep.
WAKE_LATER_MAX = timedelta(minutes=5)
ALERT_KIND = "webhook_endpoint_disabled"


def claim_lease() -> timedelta:
    """How long a claimed delivery stays invisible to other drains: past one batch's posts."""
    return timedelta(seconds=2 * settings.WACO_EVENTS_TIMEOUT_SECONDS + 5)


def deliveries_ring(*, force: bool = False) -> bool | None:
    from waco.events.tasks import deliver_events  # cycle: waco.events.tasks imports this module

    return doorbell_ring(key=DOORBELL_KEY, task=deliver_events, force=force)


def deliveries_ring_later(delay: timedelta) -> bool | None:
    if delay > WAKE_LATER_MAX:
        return None
    from waco.events.tasks import deliver_events  # cycle: waco.events.tasks imports this module

    return True if send_task_or_log(deliver_events.s().set(countdown=max(0.0, delay.total_seconds()))) else None


def secrets_live(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one within its overlap."""
    live = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and now < endpoint.previous_secret_expires_at:
        live.append(endpoint.previous_secret)
    return live


def deliveries_claim(*, now: datetime, limit: int = POST_CONCURRENCY) -> list[tuple[Delivery, DeliveryAttempt]]:
    """Lease up to `limit` due deliveries, each with its attempt row written (outcome to come)."""
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")[:limit]
        )
        if not deliveries:
            return []
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + claim_lease()
        )
        attempts = DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(delivery=delivery, started_at=now) for delivery in deliveries]
        )
    for delivery in deliveries:
        delivery.attempts += 1  # the fencing token: a later claim of the same row makes this one's outcome moot
    return list(zip(deliveries, attempts, strict=True))


def delivery_post(delivery: Delivery) -> PostResult:
    """One signed POST of the frozen body, stamped now (no database access: runs in a drain's threads)."""
    endpoint, event, now = delivery.endpoint, delivery.event, timezone.now()
    if not endpoint.enabled:
        return PostResult(status_code=None, latency_ms=0, error="endpoint disabled")
    try:
        target = target_resolve(endpoint.url)
    except UrlRefused as exc:
        return PostResult(status_code=None, latency_ms=0, error=f"refused: {exc}")
    body = event.body.encode()
    headers = signing.signed_headers(
        secrets_live=secrets_live(endpoint, now), msg_id=event.id, timestamp=int(now.timestamp()), body=body
    )
    return post(target, body=body, headers=headers, timeout_seconds=settings.WACO_EVENTS_TIMEOUT_SECONDS)


@transaction.atomic
def attempt_record(delivery: Delivery, attempt: DeliveryAttempt, result: PostResult, *, now: datetime) -> None:
    """Write the attempt's outcome and move the delivery on: delivered, retried later, or given up."""
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=now,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_excerpt=result.response_excerpt,
        error=result.error,
    )
    mine = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING, attempts=delivery.attempts)
    if result.ok:
        mine.update(state=DeliveryState.DELIVERED, delivered_at=now, last_error="")
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(failing_since=None)
        return
    error = result.error or f"HTTP {result.status_code}"
    if not delivery.endpoint.enabled or now >= delivery.created_at + RETRY_FOR:
        mine.update(state=DeliveryState.FAILED, last_error=error[:500])
    else:
        delay = backoff_delay(
            delivery.attempts, base=timedelta(seconds=settings.WACO_EVENTS_RETRY_BASE_SECONDS), cap=RETRY_CAP
        )
        if mine.update(next_attempt_at=now + delay, last_error=error[:500]):
            transaction.on_commit(lambda: deliveries_ring_later(delay))
    if delivery.endpoint.enabled:
        endpoint_failure(endpoint_id=delivery.endpoint_id, now=now)


def endpoint_failure(*, endpoint_id: int, now: datetime) -> None:
    """Count a failed attempt against the endpoint; three days of nothing but failures disable it."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(failing_since=now)
        return
    if not endpoint.enabled or endpoint.failing_since > now - DISABLE_AFTER:
        return
    reason = f"every attempt failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(enabled=False, disabled_reason=reason)
    Delivery.objects.filter(endpoint_id=endpoint_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error="endpoint disabled"
    )
    alert_raise(
        kind=ALERT_KIND,
        subject=f"webhook endpoint {endpoint.pk} ({endpoint.url})",
        detail=f"Disabled: {reason}. Fix the receiver, enable the endpoint and replay the failed events "
        "(or let the receiver catch up with GET /api/v1/events?after=<its last event id>).",
        severity=AlertSeverity.CRITICAL,
    )


def deliveries_drain() -> int:
    """Post due deliveries until none is left or the time budget is spent; returns how many were attempted."""
    doorbell_silence(key=DOORBELL_KEY)
    attempted = 0
    deadline = time.monotonic() + DRAIN_TIME_BUDGET_SECONDS
    with ThreadPoolExecutor(POST_CONCURRENCY, thread_name_prefix="events-post") as pool:
        while time.monotonic() < deadline:
            claimed = deliveries_claim(now=timezone.now())
            if not claimed:
                return attempted
            results = list(pool.map(delivery_post, [delivery for delivery, _ in claimed]))
            for (delivery, attempt), result in zip(claimed, results, strict=True):
                try:
                    attempt_record(delivery, attempt, result, now=timezone.now())
                except Exception:  # the others' outcomes still count; this one is due again when its lease ends
                    logger.exception("recording the attempt of event delivery %s failed", delivery.pk)
            attempted += len(claimed)
    deliveries_ring(force=True)  # budget spent with work left: continue in a fresh task
    return attempted


def deliveries_sweep(*, now: datetime) -> bool:
    """Beat: ring a drain when deliveries are due that no drain has taken."""
    due = Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now).exists()
    return bool(deliveries_ring(force=True)) if due else False
