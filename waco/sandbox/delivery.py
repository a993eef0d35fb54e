"""The sandbox's webhook outbox and the worker that drains it, retrying like Meta.

Every webhook the sandbox owes Waco (customer messages, statuses, template
reviews) is a Delivery row written in the same transaction as the event, so a
restart loses nothing. A daemon thread, started lazily in whichever process
first commits a row, claims due rows and POSTs them signed; it is woken by
transaction.on_commit and otherwise sleeps until the next row is due. Claims
are a conditional UPDATE (claimed_until < now), safe with several processes
on SQLite and PostgreSQL. `deliveries_flush` does the same synchronously for tests.
"""

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from waco.sandbox.config import config_get
from waco.sandbox.models import Delivery, DeliveryKind
from waco.sandbox.signing import signature, stripe_signature_header

logger = logging.getLogger(__name__)

# Few POSTs per claim and a generous lease: a claim's slow receivers (10 s timeout
# each) must be done before it runs out, or another worker would repeat them.
POSTS_PER_CLAIM = 10
LEASE = timedelta(minutes=5)
HTTP_TIMEOUT = (3, 10)
# Rows due later are found by a timed wake; an idle worker looks at least this often.
IDLE_WAIT_SECONDS = 5.0
# Stripe sessions past expires_at are expired at most this often by the loop.
CLOCK_SWEEP_SECONDS = 1.0
KEEP_CONNECTION_BELOW_SECONDS = 1.0
# Meta's webhooks take hundreds of ms; a pass at most this often costs little of that.
MIN_PASS_INTERVAL_SECONDS = 0.02
# Bounds one wake's work, so a row retried with zero backoff cannot spin forever.
MAX_BATCHES_PER_WAKE = 1000

_PENDING = Q(delivered_at__isnull=True, gave_up_at__isnull=True)


def _claimable(now) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def delivery_enqueue(*, kind: str, body: dict, ref: str = "", status: str = "", delay_seconds: float = 0.0) -> Delivery:
    """Record a webhook to send; the worker is woken only once the transaction commits."""
    row = Delivery.objects.create(
        kind=kind,
        body=json.dumps(body, separators=(",", ":")),
        ref=ref,
        status=status,
        next_attempt_at=timezone.now() + timedelta(seconds=delay_seconds),
    )
    transaction.on_commit(worker_wake)
    return row


def _claim(*, due_by, exclude: set[int], limit: int) -> list[Delivery]:
    now = timezone.now()
    candidates = (
        Delivery.objects.filter(_PENDING, _claimable(now), next_attempt_at__lte=due_by)
        .exclude(pk__in=exclude)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    ids = list(candidates)
    if not ids:
        return []
    token = uuid.uuid4().hex
    # The claim condition is repeated in the UPDATE: of two racing workers only one
    # sees claimed_until < now when it gets the row, so each row has one owner.
    Delivery.objects.filter(_PENDING, _claimable(now), pk__in=ids).update(claimed_until=now + LEASE, claim_token=token)
    return list(Delivery.objects.filter(claim_token=token, pk__in=ids).order_by("next_attempt_at", "id"))


_local = threading.local()


def _session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def http_session_close() -> None:
    """Close this thread's kept-alive connections to Waco (tests: they pin a live server's thread)."""
    session = getattr(_local, "session", None)
    if session is not None:
        session.close()
        del _local.session


def _destination(kind: str, body: bytes) -> tuple[str, dict]:
    """Where a row goes and how it is signed: Stripe events to Waco's Stripe webhook, the rest as Meta."""
    if kind == DeliveryKind.STRIPE_EVENT:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature_header(body),
        }
        return settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL, headers
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body)}
    return settings.WACO_SANDBOX_WEBHOOK_URL, headers


def _post(kind: str, body: bytes) -> str:
    """POST one webhook; '' on a 2xx, else what went wrong."""
    url, headers = _destination(kind, body)
    try:
        response = _session().post(url, data=body, headers=headers, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return ""
    return f"HTTP {response.status_code}: {response.text[:300]}"


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential: base, 2*base, 4*base, ... capped."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def _merged_body(rows: list[Delivery]) -> bytes:
    """One Meta envelope carrying every row's entries, in the rows' order."""
    if len(rows) == 1:
        return rows[0].body.encode()
    entries = [entry for row in rows for entry in json.loads(row.body)["entry"]]
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}, separators=(",", ":")).encode()


def _posts(rows: list[Delivery], batch_size: int) -> list[list[Delivery]]:
    """Rows grouped into POSTs: Meta's up to batch_size at a time, Stripe's one each."""
    posts: list[list[Delivery]] = []
    for row in rows:
        last = posts[-1] if posts else None
        if (
            last
            and row.kind != DeliveryKind.STRIPE_EVENT
            and last[0].kind != DeliveryKind.STRIPE_EVENT
            and len(last) < batch_size
        ):
            last.append(row)
        else:
            posts.append([row])
    return posts


def _attempt(rows: list[Delivery], config) -> int:
    """POST the rows as one webhook; returns how many were delivered (all or none)."""
    error = _post(rows[0].kind, _merged_body(rows))
    now = timezone.now()
    if not error:
        Delivery.objects.filter(pk__in=[r.pk for r in rows], claim_token=rows[0].claim_token).update(
            delivered_at=now, attempts=F("attempts") + 1, claimed_until=None, last_error=""
        )
        return len(rows)
    for row in rows:
        attempts = row.attempts + 1
        delay = backoff_seconds(
            attempts, base=config["webhook_retry_base_seconds"], cap=config["webhook_retry_max_seconds"]
        )
        Delivery.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error,
            gave_up_at=now if attempts >= config["webhook_max_attempts"] else None,
        )
        logger.info("sandbox webhook %s attempt %s failed: %s", row.pk, attempts, error)
    return 0


def deliveries_run_due(
    *, horizon_seconds: float = 0.0, exclude: set[int] | None = None, config=None
) -> tuple[int, int, bool]:
    """Claim one batch of rows due within the horizon and attempt each once.

    Returns (attempted, delivered, more): `more` when the claim was full, so
    further rows may be due. Attempted ids are added to `exclude`.
    """
    exclude = set() if exclude is None else exclude
    config = config or config_get()
    batch_size = config["webhook_batch_size"]
    due_by = timezone.now() + timedelta(seconds=horizon_seconds)
    limit = POSTS_PER_CLAIM * batch_size
    rows = _claim(due_by=due_by, exclude=exclude, limit=limit)
    posts = _posts(rows, batch_size)
    # Stripe's rows are one POST each: what does not fit this claim's POSTs goes back.
    unsent = [row.pk for post in posts[POSTS_PER_CLAIM:] for row in post]
    if unsent:
        Delivery.objects.filter(pk__in=unsent, claim_token=rows[0].claim_token).update(claimed_until=None)
    attempted = delivered = 0
    for post in posts[:POSTS_PER_CLAIM]:
        exclude.update(row.pk for row in post)
        attempted += len(post)
        delivered += _attempt(post, config)
    return attempted, delivered, len(rows) == limit or bool(unsent)


# Work due by the clock rather than by a row (Stripe's sessions past expires_at expire),
# registered by its owner in SandboxConfig.ready(): the parts that own it sit above this module.
_clock_tasks: list[Callable[[], object]] = []


def clock_task_register(task: Callable[[], object]) -> None:
    if task not in _clock_tasks:
        _clock_tasks.append(task)


def clock_sweep() -> None:
    """Run the registered clock work (Stripe sessions past expires_at expire, with their events)."""
    for task in _clock_tasks:
        task()


def _held_elsewhere(*, due_by, exclude: set[int]) -> bool:
    now = timezone.now()
    return (
        Delivery.objects.filter(_PENDING, next_attempt_at__lte=due_by, claimed_until__gte=now)
        .exclude(pk__in=exclude)
        .exists()
    )


def deliveries_flush(*, horizon_seconds: float = 0.0, timeout: float = 10.0) -> int:
    """Deliver now, in this thread, every pending webhook due within `horizon_seconds`.

    Each row gets one attempt per call (a failing one is rescheduled, not
    hammered). Rows another worker holds are waited for, up to `timeout`
    seconds. Returns how many were delivered. For tests and `sandbox_deliver --once`.
    """
    deadline = time.perf_counter() + timeout
    clock_sweep()
    attempted: set[int] = set()
    delivered = 0
    while True:
        count, ok, _ = deliveries_run_due(horizon_seconds=horizon_seconds, exclude=attempted)
        delivered += ok
        if count:
            continue
        due_by = timezone.now() + timedelta(seconds=horizon_seconds)
        if not _held_elsewhere(due_by=due_by, exclude=attempted) or time.perf_counter() > deadline:
            return delivered
        time.sleep(0.02)


def deliveries_pending() -> int:
    return Delivery.objects.filter(_PENDING).count()


def _seconds_until_next_due() -> float | None:
    """Until the next row this loop could take: rows another loop holds are its to send
    (if it dies, its claim runs out and they count again)."""
    now = timezone.now()
    next_at = Delivery.objects.filter(_PENDING, _claimable(now)).aggregate(at=Min("next_attempt_at"))["at"]
    if next_at is None:
        return None
    return max(0.0, (next_at - now).total_seconds())


def deliveries_run_forever(
    *, stop: threading.Event, wake: threading.Event, idle_seconds: float = IDLE_WAIT_SECONDS
) -> None:
    """The delivery loop: drain what is due, sleep until the next row or a wake."""
    swept_at = -CLOCK_SWEEP_SECONDS
    config = None
    passed_at = -MIN_PASS_INTERVAL_SECONDS
    while not stop.is_set():
        # Every commit wakes the loop; pacing the passes lets one claim (and, with
        # webhook_batch_size, one POST) take what a burst of commits queued.
        stop.wait(max(0.0, passed_at + MIN_PASS_INTERVAL_SECONDS - time.monotonic()))
        passed_at = time.monotonic()
        wake.clear()
        wait = idle_seconds
        try:
            close_old_connections()
            # Once a second: the expiry sweep, and the config (retry and batch settings,
            # so a change reaches the loop within a second).
            if time.monotonic() - swept_at >= CLOCK_SWEEP_SECONDS:
                clock_sweep()
                config = config_get()
                swept_at = time.monotonic()
            for _ in range(MAX_BATCHES_PER_WAKE):
                # A claim that was not full took every row due; rows committed since woke us again.
                if stop.is_set() or not deliveries_run_due(config=config)[2]:
                    break
            next_due = _seconds_until_next_due()
            if next_due is not None:
                wait = max(0.01, min(wait, next_due))
        except Exception:
            logger.exception("sandbox delivery loop failed; retrying shortly")
            wait = 1.0
        finally:
            # Hold no connection through a long sleep (a test run can then drop its
            # database); under load, reconnecting at every wake would cost more than the work.
            if wait >= KEEP_CONNECTION_BELOW_SECONDS:
                connection.close()
        wake.wait(wait)
    connection.close()


class DeliveryWorker:
    """The per-process daemon thread; restarted after a fork (gunicorn, multiprocessing)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._stop, self._wake = threading.Event(), threading.Event()
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=deliveries_run_forever,
                    kwargs={"stop": self._stop, "wake": self._wake},
                    name="sandbox-delivery",
                    daemon=True,
                )
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        with self._lock:
            thread = self._thread
            self._stop.set()
            self._wake.set()
            self._thread = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def wake_pending(self) -> bool:
        """A wake-up the loop has not taken yet: it takes one as each pass starts."""
        return self._wake.is_set()


worker = DeliveryWorker()


def worker_wake() -> None:
    """Wake (starting if needed) this process's delivery thread, unless settings turn it off."""
    if getattr(settings, "WACO_SANDBOX_DELIVERY_THREAD", True):
        worker.wake()


def worker_stop(timeout: float = 15.0) -> None:
    worker.stop(timeout)
