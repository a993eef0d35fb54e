"""The send path's rate limits: per phone number (throughput) and per recipient (pair limit).

Both are GCRA (the generic cell rate algorithm), held in a store every worker
process shares: Redis when REDIS_URL is set, else a SQLite file of its own
under DEMO_DATA_DIR (the demo runs several worker processes and no Redis).

Why GCRA rather than a token bucket: it behaves like a token bucket (a rate
and a burst) but keeps ONE number per key, the theoretical arrival time (TAT)
of the next message, so a step is one read and one write, and "retry after"
is exact arithmetic rather than an estimate.

A call never blocks and never drops: it answers how many may go now, and when
the next one would conform, so the caller holds the message and comes back.
If the store cannot be reached we deny (fail closed) with a short retry: a
limiter that let everything through during an outage would earn 130429s and
hurt the number's quality.

Units: microseconds as integers everywhere, so the Lua script, the SQLite
backend and the tests agree to the microsecond and no float rounding can
grant one message too many.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import redis
from django.conf import settings

if TYPE_CHECKING:
    from waco.channels.models import PhoneNumber

logger = logging.getLogger(__name__)

MICROSECONDS = 1_000_000
# A number's burst is at most this share of its rate (80/s -> 4): enough to
# absorb a drain batch's jitter, small enough that no second holds much more
# than the rate Meta enforces.
NUMBER_BURST_SHARE = 0.05
# When the store is unreachable the caller comes back after this long.
FAIL_CLOSED_RETRY_SECONDS = 1.0
# A Redis that hangs must not hang the send path; we deny after this.
REDIS_SOCKET_TIMEOUT_SECONDS = 1.0
REDIS_CONNECT_TIMEOUT_SECONDS = 0.5
# One warning per outage and this many seconds, not one per message.
OUTAGE_LOG_EVERY_SECONDS = 10.0
KEY_PREFIX = "waco:ratelimit"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one message: go now, or come back after `retry_after` seconds."""

    allowed: bool
    retry_after: float  # 0.0 when allowed


class RateLimiter(Protocol):
    def acquire(self, key: str, *, rate_per_second: float, burst: int) -> Decision: ...

    def acquire_many(self, key: str, count: int, *, rate_per_second: float, burst: int) -> int: ...


# --- the algorithm --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GcraStep:
    granted: int
    tat_us: int  # the key's new TAT (unchanged when nothing was granted)
    retry_after_us: int  # until one more would conform; 0 when all were granted


def gcra_step(*, tat_us: int | None, now_us: int, count: int, interval_us: int, burst: int) -> GcraStep:
    """One GCRA decision: grant up to `count` cells at `now_us`.

    `burst` is how many may go at once from idle (the bucket's capacity). A
    cell conforms when, after it, TAT - now <= burst * interval. The Lua
    script below is this function, line for line; the SQLite backend calls it.
    """
    tat = max(tat_us or 0, now_us)  # an idle key has caught up with now: no credit beyond the burst
    room = (now_us + burst * interval_us - tat) // interval_us
    granted = min(count, max(room, 0))
    tat += granted * interval_us
    retry = 0 if granted == count else tat + interval_us - burst * interval_us - now_us
    return GcraStep(granted=granted, tat_us=tat, retry_after_us=retry)


def interval_us(rate_per_second: float) -> int:
    """The emission interval in whole microseconds, rounded up: never faster than the rate."""
    if not rate_per_second > 0:
        raise ValueError(f"rate_per_second must be positive, not {rate_per_second!r}")
    # The epsilon keeps 10/60 per second at exactly 6 s instead of 6 s + 1 us.
    return max(1, math.ceil(MICROSECONDS / rate_per_second - 1e-6))


def check_burst(burst: int) -> int:
    if int(burst) != burst or burst < 1:
        raise ValueError(f"burst must be a whole number >= 1, not {burst!r}")
    return int(burst)


# --- Redis --------------------------------------------------------------------------------

# KEYS[1]: the bucket. ARGV: count, interval (us), burst. Returns {granted, retry_after_us}.
# Time is the server's (TIME), not the caller's: workers on different machines
# share one clock, and a worker's skew can neither over-grant nor starve. TIME
# before a write needs effect replication, the default since Redis 5.
# Numbers are written with %.0f: Lua's own conversion keeps 14 digits, and a
# TAT in microseconds has 16.
GCRA_LUA = """
local count = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local room = math.floor((now + burst * interval - tat) / interval)
local granted = math.min(count, math.max(room, 0))
if granted > 0 then
  tat = tat + granted * interval
  -- The key lives until its TAT: past it, an absent key means the same (idle).
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end
local retry = 0
if granted < count then retry = tat + interval - burst * interval - now end
return {granted, retry}
"""


class GcraLimiter:
    """The public calls over a backend's `_take(key, count, ...) -> (granted, retry_after_us)`."""

    def acquire(self, key: str, *, rate_per_second: float, burst: int) -> Decision:
        granted, retry_us = self._take(key, 1, rate_per_second=rate_per_second, burst=burst)
        return Decision(allowed=granted == 1, retry_after=retry_us / MICROSECONDS)

    def acquire_many(self, key: str, count: int, *, rate_per_second: float, burst: int) -> int:
        if count <= 0:
            return 0
        return self._take(key, count, rate_per_second=rate_per_second, burst=burst)[0]


class RedisRateLimiter(GcraLimiter):
    """GCRA in one Lua script, loaded once per process and run with EVALSHA."""

    def __init__(self, *, url: str):
        self.url = url
        # redis-py's pool notices a fork and reconnects, so one client per process is safe.
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        )
        # Script runs EVALSHA and loads the script again on NOSCRIPT (a restarted Redis).
        self._script = self._client.register_script(GCRA_LUA)

    def _take(self, key: str, count: int, *, rate_per_second: float, burst: int) -> tuple[int, int]:
        args = [int(count), interval_us(rate_per_second), check_burst(burst)]
        try:
            granted, retry_us = self._script(keys=[key], args=args)
        except redis.RedisError as error:
            log_outage(backend="redis", key=key, error=error)
            return 0, int(FAIL_CLOSED_RETRY_SECONDS * MICROSECONDS)
        return int(granted), int(retry_us)


# --- choosing the backend -------------------------------------------------------------


def limiter() -> RateLimiter:
    """This process's limiter: Redis if REDIS_URL is set, else the shared SQLite file."""
    return _limiter_for(settings.REDIS_URL, str(settings.DEMO_DATA_DIR))


@lru_cache(maxsize=4)
def _limiter_for(redis_url: str, data_dir: str) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(url=redis_url)
    # Imported here: the SQLite backend imports this module for gcra_step.
    from outbound.ratelimit_sqlite import SqliteRateLimiter

    return SqliteRateLimiter(path=Path(data_dir) / "ratelimit.sqlite3")


# --- the two limits the send path applies ---------------------------------------------


def number_key(*, phone_number: PhoneNumber) -> str:
    return f"{KEY_PREFIX}:number:{phone_number.graph_id}"


def pair_key(*, phone_number: PhoneNumber, recipient: str) -> str:
    return f"{KEY_PREFIX}:pair:{phone_number.graph_id}:{recipient}"


def number_rate(*, phone_number: PhoneNumber) -> tuple[float, int]:
    """(messages/s, burst) for a number: its throughput, and 5% of it as burst (at least 1)."""
    # 0 is allowed by the field but would divide by zero; pausing a number is sending_paused's job.
    rate = max(int(phone_number.throughput_mps), 1)
    return float(rate), max(1, int(rate * NUMBER_BURST_SHARE))


def number_acquire_many(*, phone_number: PhoneNumber, count: int) -> int:
    """How many of `count` messages the number may send now (0..count), taken atomically."""
    rate, burst = number_rate(phone_number=phone_number)
    return limiter().acquire_many(
        number_key(phone_number=phone_number), count, rate_per_second=rate, burst=burst
    )


def number_acquire(*, phone_number: PhoneNumber) -> Decision:
    """One message on the number's throughput; says when to come back if it must wait."""
    rate, burst = number_rate(phone_number=phone_number)
    return limiter().acquire(number_key(phone_number=phone_number), rate_per_second=rate, burst=burst)


def pair_acquire(*, phone_number: PhoneNumber, recipient: str) -> Decision:
    """One message from this number to this recipient, under the pair limit (settings)."""
    return limiter().acquire(
        pair_key(phone_number=phone_number, recipient=recipient),
        rate_per_second=settings.WACO_PAIR_RATE_PER_MINUTE / 60,
        burst=settings.WACO_PAIR_BURST,
    )


# --- outages ------------------------------------------------------------------------------

_last_outage_log = float("-inf")


def log_outage(*, backend: str, key: str, error: Exception) -> None:
    """Warn that we are denying because the store failed; at most once per interval per process."""
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= OUTAGE_LOG_EVERY_SECONDS:
        _last_outage_log = now
        logger.warning("rate limiter store (%s) failed, denying sends (fail closed): %s [%s]", backend, error, key)
    else:
        logger.debug("rate limiter store (%s) failed: %s [%s]", backend, error, key)
