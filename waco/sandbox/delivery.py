"""The sandbox's webhook outbox and the worker that drains it, retrying like Meta.

Every webhook the sandbox owes Waco (customer messages, statuses, template
reviews) is a Delivery row written in the same transaction as the event, so a
restart loses nothing. A daemon thread, started lazily in whichever process
first commits a row, claims due rows and POSTs them signed; it is woken by
transaction.on_commit and otherwise sleeps until the next row is due. Claims
are a conditional UPDATE (claimed_until < now), safe with several processes
on SQLite and PostgreSQL. `deliveries_flush` does the same synchronously for tests.
"""

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from waco.sandbox.config import config_get
from waco.sandbox.models import Delivery, DeliveryKind
from waco.sandbox.stripe_signing import stripe_signature_header

logger = logging.getLogger(__name__)

# Small batches and a generous lease: a batch of slow receivers (10 s timeout
# each) must finish before its claim runs out, or another worker would repeat it.
BATCH_SIZE = 10
LEASE = timedelta(minutes=5)
HTTP_TIMEOUT = (3, 10)
# Rows due later are found by a timed wake; an idle worker looks at least this often.
IDLE_WAIT_SECONDS = 5.0
# Bounds one wake's work, so a row retried with zero backoff cannot spin forever.
MAX_BATCHES_PER_WAKE = 1000

_PENDING = Q(delivered_at__isnull=True, gave_up_at__isnull=True)


def _claimable(now) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def signature(body: bytes) -> str:
    """X-Hub-Signature-256 as Meta computes it: HMAC-SHA256 of the raw body with the app secret."""
    secret = settings.WACO_META_APP_SECRETS[0]
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_enqueue(
    *, kind: str, body: dict, ref: str = "", status: str = "", delay_seconds: float = 0.0
) -> Delivery:
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


def _claim(*, due_by, exclude: set[int]) -> list[Delivery]:
    now = timezone.now()
    candidates = (
        Delivery.objects.filter(_PENDING, _claimable(now), next_attempt_at__lte=due_by)
        .exclude(pk__in=exclude)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:BATCH_SIZE]
    )
    ids = list(candidates)
    if not ids:
        return []
    token = uuid.uuid4().hex
    # The claim condition is repeated in the UPDATE: of two racing workers only one
    # sees claimed_until < now when it gets the row, so each row has one owner.
    Delivery.objects.filter(_PENDING, _claimable(now), pk__in=ids).update(
        claimed_until=now + LEASE, claim_token=token
    )
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


def _attempt(row: Delivery, config) -> bool:
    error = _post(row.kind, row.body.encode())
    now = timezone.now()
    attempts = row.attempts + 1
    owned = Delivery.objects.filter(pk=row.pk, claim_token=row.claim_token)
    if not error:
        owned.update(delivered_at=now, attempts=attempts, claimed_until=None, last_error="")
        return True
    delay = backoff_seconds(
        attempts, base=config["webhook_retry_base_seconds"], cap=config["webhook_retry_max_seconds"]
    )
    gave_up = now if attempts >= config["webhook_max_attempts"] else None
    owned.update(
        attempts=attempts,
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        last_error=error,
        gave_up_at=gave_up,
    )
    logger.info("sandbox webhook %s attempt %s failed: %s", row.pk, attempts, error)
    return False


def deliveries_run_due(*, horizon_seconds: float = 0.0, exclude: set[int] | None = None) -> tuple[int, int]:
    """Claim one batch of rows due within the horizon and attempt each once.

    Returns (attempted, delivered). Attempted ids are added to `exclude`.
    """
    exclude = set() if exclude is None else exclude
    rows = _claim(due_by=timezone.now() + timedelta(seconds=horizon_seconds), exclude=exclude)
    if not rows:
        return 0, 0
    config = config_get()
    delivered = 0
    for row in rows:
        exclude.add(row.pk)
        delivered += _attempt(row, config)
    return len(rows), delivered


def clock_sweep() -> None:
    """Work due by the clock rather than by a row: Stripe sessions past expires_at expire."""
    # Imported here: the Stripe sandbox enqueues its events through this module.
    from waco.sandbox.stripe_api import sessions_expire_due

    sessions_expire_due()


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
        count, ok = deliveries_run_due(horizon_seconds=horizon_seconds, exclude=attempted)
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
    next_at = Delivery.objects.filter(_PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    if next_at is None:
        return None
    return max(0.0, (next_at - timezone.now()).total_seconds())


def deliveries_run_forever(
    *, stop: threading.Event, wake: threading.Event, idle_seconds: float = IDLE_WAIT_SECONDS
) -> None:
    """The delivery loop: drain what is due, sleep until the next row or a wake."""
    while not stop.is_set():
        wake.clear()
        wait = idle_seconds
        try:
            close_old_connections()
            clock_sweep()
            for _ in range(MAX_BATCHES_PER_WAKE):
                if stop.is_set() or not deliveries_run_due()[0]:
                    break
            next_due = _seconds_until_next_due()
            if next_due is not None:
                wait = max(0.01, min(wait, next_due))
        except Exception:
            logger.exception("sandbox delivery loop failed; retrying shortly")
            wait = 1.0
        finally:
            # Hold no connection while asleep: a test run can then drop its database.
            connection.close()
        wake.wait(wait)


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


worker = DeliveryWorker()


def worker_wake() -> None:
    """Wake (starting if needed) this process's delivery thread, unless settings turn it off."""
    if getattr(settings, "WACO_SANDBOX_DELIVERY_THREAD", True):
        worker.wake()


def worker_stop(timeout: float = 15.0) -> None:
    worker.stop(timeout)
