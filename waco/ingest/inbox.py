"""The inbox as a queue: store a delivery in one INSERT, wake a worker, drain.

The delivery row is the unit of work; a Celery message only says "there is
work". The webhook request rings a doorbell after commit (one Redis SET NX);
only the request that finds it silent publishes a drain task, so a burst of
webhooks costs one Celery message per drain rather than one per delivery
(bench/ingest.py). A drain holds the doorbell set while it works, so rings
meanwhile publish nothing: it claims their rows itself. Only when a claim comes
back empty, and another after a short linger, does it silence the doorbell and
claim once more, then end. Anything
a lost message, a down broker or a killed worker leaves behind is still a due
row, and beat's job drains it.

Why no delivery waits: its ring comes after its commit. If the ring finds the
doorbell silent, it publishes a drain, which claims later. If it finds it set,
a drain was published and has not started, or a drain holds it and has not yet
silenced it: that drain's last claim comes after its silence, so after the
commit, and takes the row (or another drain has leased it).
"""

import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from waco.doorbell import doorbell_hold, doorbell_ring, doorbell_silence
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
# An idle drain waits this long, still holding the doorbell, before it ends: under
# steady traffic the next webhooks find it alive instead of costing a task each.
DRAIN_LINGER_SECONDS = 0.05
# A drain returns to the broker after this long, so no task nears its time limit.
DRAIN_TIME_BUDGET_SECONDS = 20


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
    transaction.on_commit(inbox_ring)
    return delivery_id


def inbox_ring(*, force: bool = False) -> bool | None:
    """Ask a worker to drain the inbox unless a drain is already requested (waco.doorbell)."""
    from waco.ingest.tasks import drain_inbox  # cycle: waco.ingest.tasks imports this module

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
    drain_id = uuid.uuid4().hex
    processed = 0
    deadline = time.monotonic() + DRAIN_TIME_BUDGET_SECONDS
    try:
        while time.monotonic() < deadline:
            doorbell_hold(key=DOORBELL_KEY)  # this drain claims again before it ends
            ids = deliveries_claim(now=timezone.now())
            if not ids:
                time.sleep(DRAIN_LINGER_SECONDS)  # still holding: the next webhooks need no new task
                ids = deliveries_claim(now=timezone.now())
            if not ids:
                doorbell_silence(key=DOORBELL_KEY)  # from here, a delivery stored rings a new drain
                ids = deliveries_claim(now=timezone.now())  # those whose rings found it held
            if not ids:
                return processed
            if len(ids) >= HELP_AT and _drains_live(drain_id) < MAX_DRAINS:
                inbox_ring(force=True)  # a backlog: let another worker process take the next claim
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
