"""The send path's rate limits: per phone number (throughput) and per recipient (pair limit).

A number's throughput is shared with its inbound messages (number_charge_inbound), and
after Meta's 130429 the whole number cools down (outbound.cooldown), both in this store.

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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from django.conf import settings

from outbound.cooldown import COOLDOWN_LUA, UNLIMITED
from outbound.gcra import (
    FAIL_CLOSED_RETRY_SECONDS,
    MICROSECONDS,
    Decision,
    GcraLimiter,
    RateLimiter,
    check_burst,
    interval_us,
    log_outage,
)
from outbound.ratelimit_sqlite import SqliteRateLimiter

if TYPE_CHECKING:
    from waco.channels.models import PhoneNumber

logger = logging.getLogger(__name__)

# A number's burst is at most this share of its rate (80/s -> 4): enough to
# absorb a drain batch's jitter, small enough that no second holds much more
# than the rate Meta enforces.
NUMBER_BURST_SHARE = 0.05
# The share of a number's throughput left unused for that bunching (80/s: 72 granted a second at most).
NUMBER_HEADROOM_SHARE = 0.10
# A Redis that hangs must not hang the send path; we deny after this.
REDIS_SOCKET_TIMEOUT_SECONDS = 1.0
REDIS_CONNECT_TIMEOUT_SECONDS = 0.5
KEY_PREFIX = "waco:ratelimit"


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

# KEYS[1]: the bucket. ARGV: count, interval (us), max ahead (us). gcra_charge, line for line.
CHARGE_LUA = """
local count = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
tat = math.min(tat + count * interval, now + ahead)
if tat > now then
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end
return 1
"""


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
        self._charge_script = self._client.register_script(CHARGE_LUA)
        self._cooldown_script = self._client.register_script(COOLDOWN_LUA)

    def _take(self, key: str, count: int, *, rate_per_second: float, burst: int) -> tuple[int, int]:
        args = [int(count), interval_us(rate_per_second), check_burst(burst)]
        try:
            granted, retry_us = self._script(keys=[key], args=args)
        except redis.RedisError as error:
            log_outage(backend="redis", key=key, error=error)
            return 0, int(FAIL_CLOSED_RETRY_SECONDS * MICROSECONDS)
        return int(granted), int(retry_us)

    def _charge(self, key: str, count: int, interval: int, max_ahead_us: int) -> None:
        try:
            self._charge_script(keys=[key], args=[count, interval, max_ahead_us])
        except redis.RedisError as error:  # a missed charge sends a little faster; never block ingest
            log_outage(backend="redis", key=key, error=error)

    def _cooldown(self, key: str, operation: str) -> tuple[int, int]:
        try:
            first, second = self._cooldown_script(keys=[key], args=[operation])
        except redis.RedisError as error:
            log_outage(backend="redis", key=key, error=error)
            return 0, int(FAIL_CLOSED_RETRY_SECONDS * MICROSECONDS)
        return int(first), int(second)


# --- choosing the backend -------------------------------------------------------------


def limiter() -> RateLimiter:
    """This process's limiter: Redis if REDIS_URL is set, else the shared SQLite file."""
    return _limiter_for(settings.REDIS_URL, str(settings.DEMO_DATA_DIR))


@lru_cache(maxsize=4)
def _limiter_for(redis_url: str, data_dir: str) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(url=redis_url)
    return SqliteRateLimiter(path=Path(data_dir) / "ratelimit.sqlite3")


# --- the two limits the send path applies ---------------------------------------------


def number_key(*, phone_number: PhoneNumber) -> str:
    return f"{KEY_PREFIX}:number:{phone_number.graph_id}"


def pair_key(*, phone_number: PhoneNumber, recipient: str) -> str:
    return f"{KEY_PREFIX}:pair:{phone_number.graph_id}:{recipient}"


def cooldown_key(*, phone_number: PhoneNumber) -> str:
    return f"{KEY_PREFIX}:cooldown:{phone_number.graph_id}"


def number_rate(*, phone_number: PhoneNumber) -> tuple[float, int]:
    """(messages/s, burst) for a number: 5% of its throughput as burst (at least 1), and the
    throughput less that burst and a headroom as rate, so that no second holds more than the
    throughput where Meta counts: on its own clock, after the network and our send threads have
    bunched calls granted apart (a few per second at 80/s)."""
    # 0 is allowed by the field but would divide by zero; pausing a number is sending_paused's job.
    throughput = max(int(phone_number.throughput_mps), 1)
    burst = max(1, int(throughput * NUMBER_BURST_SHARE))
    return float(max(throughput * (1 - NUMBER_HEADROOM_SHARE) - burst, 1)), burst


@dataclass(frozen=True, slots=True)
class Grant:
    granted: int
    retry_after: float  # seconds until one more may go; 0.0 when all were granted


def number_take(*, phone_number: PhoneNumber, count: int) -> Grant:
    """How many of `count` calls the number may make now: none while it cools down after
    a 130429, one probe when the cool-down ends, else what its throughput grants."""
    if count <= 0:
        return Grant(0, 0.0)
    store, cooling = limiter(), cooldown_key(phone_number=phone_number)
    allowed, retry_us = store.cooldown(cooling, "gate")
    if allowed == 0:
        return Grant(0, retry_us / MICROSECONDS)
    rate, burst = number_rate(phone_number=phone_number)
    wanted = count if allowed == UNLIMITED else min(count, allowed)
    granted, retry = store.acquire_upto(
        number_key(phone_number=phone_number), wanted, rate_per_second=rate, burst=burst
    )
    if allowed != UNLIMITED and granted == 0:
        store.cooldown(cooling, "release")  # the probe was not used: let the next caller take it
    return Grant(granted, 0.0 if granted == count else retry)


def number_acquire_many(*, phone_number: PhoneNumber, count: int) -> int:
    """How many of `count` messages the number may send now (0..count), taken atomically."""
    return number_take(phone_number=phone_number, count=count).granted


def number_acquire(*, phone_number: PhoneNumber) -> Decision:
    """One message on the number's throughput; says when to come back if it must wait."""
    grant = number_take(phone_number=phone_number, count=1)
    return Decision(allowed=grant.granted == 1, retry_after=grant.retry_after)


def number_throttled(*, phone_number: PhoneNumber) -> float:
    """Meta answered 130429: the whole number cools down. Returns the seconds left of it."""
    return limiter().cooldown(cooldown_key(phone_number=phone_number), "throttled")[1] / MICROSECONDS


def number_clean(*, phone_number: PhoneNumber) -> None:
    """Meta accepted a call: a probe after a cool-down came back clean."""
    limiter().cooldown(cooldown_key(phone_number=phone_number), "clean")


# Inbound messages may push the number's next send at most this far out.
INBOUND_MAX_AHEAD_SECONDS = 1.0


def number_charge_inbound(*, phone_number: PhoneNumber, count: int) -> None:
    """Customers' messages count against the number's throughput at Meta: take their
    tokens, conforming or not, so that sends get what inbound traffic leaves. Never waits."""
    rate, _ = number_rate(phone_number=phone_number)
    limiter().charge(
        number_key(phone_number=phone_number),
        count,
        rate_per_second=rate,
        max_ahead_seconds=INBOUND_MAX_AHEAD_SECONDS,
    )


def pair_acquire(*, phone_number: PhoneNumber, recipient: str) -> Decision:
    """One message from this number to this recipient, under the pair limit (settings)."""
    return limiter().acquire(
        pair_key(phone_number=phone_number, recipient=recipient),
        rate_per_second=settings.WACO_PAIR_RATE_PER_MINUTE / 60,
        burst=settings.WACO_PAIR_BURST,
    )
