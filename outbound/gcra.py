"""GCRA, the algorithm both rate-limit stores run (outbound.ratelimit: Redis; outbound.ratelimit_sqlite:
a SQLite file for the demo), and what they share: the answer, the public calls, outage logging.

Units: microseconds as integers everywhere, so the Lua script, the SQLite backend and the tests
agree to the microsecond and no float rounding can grant one message too many.
"""

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger("outbound.ratelimit")

MICROSECONDS = 1_000_000
# When the store is unreachable the caller comes back after this long.
FAIL_CLOSED_RETRY_SECONDS = 1.0
# One warning per outage and this many seconds, not one per message.
OUTAGE_LOG_EVERY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one message: go now, or come back after `retry_after` seconds."""

    allowed: bool
    retry_after: float  # 0.0 when allowed


class RateLimiter(Protocol):
    def acquire(self, key: str, *, rate_per_second: float, burst: int) -> Decision: ...

    def acquire_many(self, key: str, count: int, *, rate_per_second: float, burst: int) -> int: ...

    def acquire_upto(self, key: str, count: int, *, rate_per_second: float, burst: int) -> tuple[int, float]: ...

    def charge(self, key: str, count: int, *, rate_per_second: float, max_ahead_seconds: float) -> None: ...

    def cooldown(self, key: str, operation: str) -> tuple[int, int]: ...


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
    script in outbound.ratelimit is this function, line for line; the SQLite backend calls it.
    """
    tat = max(tat_us or 0, now_us)  # an idle key has caught up with now: no credit beyond the burst
    room = (now_us + burst * interval_us - tat) // interval_us
    granted = min(count, max(room, 0))
    tat += granted * interval_us
    retry = 0 if granted == count else tat + interval_us - burst * interval_us - now_us
    return GcraStep(granted=granted, tat_us=tat, retry_after_us=retry)


def gcra_charge(*, tat_us: int | None, now_us: int, count: int, interval_us: int, max_ahead_us: int) -> int:
    """Take `count` cells whether they conform or not (inbound traffic Meta already counted);
    the new TAT, never more than `max_ahead_us` past now, so a flood cannot stop sends for long."""
    tat = max(tat_us or 0, now_us) + count * interval_us
    return min(tat, now_us + max_ahead_us)


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


class GcraLimiter:
    """The public calls over a backend's `_take(key, count, ...) -> (granted, retry_after_us)`."""

    def acquire(self, key: str, *, rate_per_second: float, burst: int) -> Decision:
        granted, retry_us = self._take(key, 1, rate_per_second=rate_per_second, burst=burst)
        return Decision(allowed=granted == 1, retry_after=retry_us / MICROSECONDS)

    def acquire_many(self, key: str, count: int, *, rate_per_second: float, burst: int) -> int:
        if count <= 0:
            return 0
        return self._take(key, count, rate_per_second=rate_per_second, burst=burst)[0]

    def acquire_upto(self, key: str, count: int, *, rate_per_second: float, burst: int) -> tuple[int, float]:
        """(granted, seconds until one more conforms)."""
        granted, retry_us = self._take(key, count, rate_per_second=rate_per_second, burst=burst)
        return granted, retry_us / MICROSECONDS

    def charge(self, key: str, count: int, *, rate_per_second: float, max_ahead_seconds: float) -> None:
        if count > 0:
            self._charge(key, int(count), interval_us(rate_per_second), int(max_ahead_seconds * MICROSECONDS))

    def cooldown(self, key: str, operation: str) -> tuple[int, int]:
        """A cool-down operation (outbound.cooldown): gate -> (allowed, retry_us), else (level, remaining_us)."""
        return self._cooldown(key, operation)


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
