"""The inbox as a queue: store a delivery in one INSERT, wake a worker, drain.

The delivery row is the unit of work; a Celery message only says "there is
work". The webhook request rings a doorbell after commit (one Redis SET NX);
only the request that finds it silent publishes a drain task, so a burst of
webhooks costs one Celery message per drain rather than one per delivery
(bench/ingest.py). A drain silences the doorbell, then claims due deliveries
with a lease and processes them. Anything a lost message, a down broker or a
killed worker leaves behind is still a due row, and beat's job drains it.

Why a process may skip ringing for RING_SKIP after it rang: whether its SET NX
won or found the doorbell set, a drain had not yet started at that moment (a
drain silences the doorbell before its first claim). Every drain ends with an
empty claim, a pause of DRAIN_LINGER and a second empty claim, so its last
claim comes at least DRAIN_LINGER after the ring, later than any delivery
committed within RING_SKIP of it: that drain picks the delivery up.
"""

import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from waco.doorbell import doorbell_ring, doorbell_silence
from waco.flags import member_remove, members_touch
from waco.ingest.models import Delivery, DeliveryStatus
from waco.ingest.services import deliveries_process

logger = logging.getLogger(__name__)

DOORBELL_KEY = "waco:ingest:drain-requested"
# A claimed delivery is invisible to other drains this long; past it (a killed
# worker), it is due again. Longer than the task time limit (90 s).
CLAIM_LEASE = timedelta(minutes=2)
# Small claims leave the rest of a backlog to helping drains, which each take their own.
CLAIM_BATCH = 10
# A claim of this many means a backlog: one drain processing it alone would make
# every message behind it wait, so another is asked to help, up to MAX_DRAINS at
# once; the rest of a worker's processes are left to sending the replies.
# Parallel drains take disjoint rows; the thread lock keeps one customer's turns apart.
HELP_AT = 2
MAX_DRAINS = 2
DRAINS_KEY = "waco:ingest:drains"
# A drain returns to the broker after this long, so no task nears its time limit.
DRAIN_TIME_BUDGET_SECONDS = 20
# See the module docstring: RING_SKIP must stay well below DRAIN_LINGER.
RING_SKIP_SECONDS = 0.05
DRAIN_LINGER_SECONDS = 0.15

_last_ring = -RING_SKIP_SECONDS  # time.monotonic() of this process's last ring


def delivery_receive(*, source: str, body: str, headers: dict, now: datetime | None = None) -> int:
    """Store a webhook request in one INSERT and wake a worker after commit; returns its id.

    This runs in the webhook request, where every 0.1 ms counts: a hand-written
    INSERT costs half of what the ORM's create() does.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table}"
            " (source, body, headers, received_at, status, attempts, next_attempt_at, last_error)"
            " VALUES (%s, %s, %s, %s, %s, 0, %s, '') RETURNING id",
            [source, body, json.dumps(headers), now, DeliveryStatus.PENDING, now],
        )
        delivery_id = cursor.fetchone()[0]
    transaction.on_commit(inbox_ring_after_receive)
    return delivery_id


def inbox_ring_after_receive() -> None:
    """Ring, unless this process rang less than RING_SKIP ago (see the module docstring)."""
    global _last_ring
    now = time.monotonic()
    if now - _last_ring < RING_SKIP_SECONDS:
        return
    if inbox_ring() is not None:
        _last_ring = now


def inbox_ring(*, force: bool = False) -> bool | None:
    """Ask a worker to drain the inbox unless a drain is already requested (waco.doorbell)."""
    from waco.ingest.tasks import drain_inbox

    return doorbell_ring(key=DOORBELL_KEY, task=drain_inbox, force=force)


def deliveries_claim(*, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Lease up to `limit` due deliveries to the caller, oldest first."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + CLAIM_LEASE)
    return ids


def inbox_drain() -> int:
    """Process due deliveries until none is left or the time budget is spent."""
    doorbell_silence(key=DOORBELL_KEY)  # before claiming: a delivery stored after this rings again
    drain_id = uuid.uuid4().hex
    processed = 0
    deadline = time.monotonic() + DRAIN_TIME_BUDGET_SECONDS
    try:
        while time.monotonic() < deadline:
            ids = deliveries_claim(now=timezone.now())
            if not ids:
                time.sleep(DRAIN_LINGER_SECONDS)  # for deliveries whose ring was skipped
                ids = deliveries_claim(now=timezone.now())
            if not ids:
                return processed
            if len(ids) >= HELP_AT and _drains_live(drain_id) < MAX_DRAINS:
                inbox_ring()  # a backlog: let another worker process take the next claim
            deliveries_process(delivery_ids=ids)
            processed += len(ids)
        inbox_ring(force=True)  # budget spent with work left: continue in a fresh task
        return processed
    finally:
        _drain_gone(drain_id)


def _drains_live(drain_id: str) -> int:
    """How many drains are running, this one included (1 when Redis cannot tell)."""
    try:
        return members_touch(DRAINS_KEY, drain_id, DRAIN_TIME_BUDGET_SECONDS + 10)
    except Exception:
        logger.warning("cannot count inbox drains", exc_info=True)
        return 1


def _drain_gone(drain_id: str) -> None:
    try:
        member_remove(DRAINS_KEY, drain_id)
    except Exception:
        logger.warning("cannot count inbox drains", exc_info=True)


def deliveries_drain_due(*, now: datetime) -> bool:
    """Beat: publish a drain when deliveries are due that no drain has taken."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).exists()
    return bool(inbox_ring(force=True)) if due else False


@transaction.atomic
def delivery_rerun(*, delivery: Delivery, now: datetime | None = None) -> None:
    """Staff: give a failed delivery a fresh set of attempts (from the admin)."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now or timezone.now()
    )
    transaction.on_commit(inbox_ring)
