"""The portfolio's reach: unique users sent a business-initiated (template) message in a moving 24 h.

Meta's messaging limit counts those users per business portfolio, and marketing may take
only a share of it (policy). Counting them from the outbox loaded every contact id of the
day per decision; here each account has one set of users, member the contact, score the
time of the latest template send to them, and one atomic step checks and adds:

- old members (past 24 h) drop out;
- a member already in the set is allowed again (its time refreshed): a user counts once;
- a newcomer is refused when the set holds `allowed` users, else added.

Redis: a sorted set per account and one Lua script, so workers racing for the last place
cannot both get it, and a step costs the same with 10 or 100,000 users in the set. Without
REDIS_URL (the demo), the same step on a SQLite file under DEMO_DATA_DIR (reach_sqlite).

When the store cannot answer, a check raises ReachUnknown and the policy refuses the
marketing message (we would rather hold an offer than earn Meta's limit on receipts);
a record (utility, authentication, a send already admitted) is never refused: it is lost,
and the count is one short until that user's next send.

Times are the caller's `now` (the policy's), in integer microseconds: a decision and its
count use one clock, and tests move it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings

from outbound.ratelimit import KEY_PREFIX, REDIS_CONNECT_TIMEOUT_SECONDS, REDIS_SOCKET_TIMEOUT_SECONDS
from outbound.reach_sqlite import SqliteReachCounter
from waco.channels.models import BusinessAccount

logger = logging.getLogger(__name__)

REACH_WINDOW = timedelta(hours=24)  # Meta's messaging limit: unique users in a moving 24 h
WINDOW_US = int(REACH_WINDOW.total_seconds()) * 1_000_000
# The set outlives its newest member by a margin; past it every member has dropped out anyway.
KEY_TTL_SECONDS = int((REACH_WINDOW + timedelta(hours=1)).total_seconds())
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECORD_ONLY = -1  # `allowed` of a send the share does not limit
OUTAGE_LOG_EVERY_SECONDS = 10.0
# Redis down or hanging; SQLite locked too long, disk full, data dir unwritable.
STORE_ERRORS = (redis.RedisError, sqlite3.Error, OSError)


class ReachUnknown(Exception):
    """The store could not count: nobody knows whether the user fits."""


class ReachCounter(Protocol):
    def add(self, key: str, member: str, *, now_us: int, window_us: int, allowed: int) -> bool:
        """Check and add in one atomic step; False: a newcomer and `allowed` reached."""
        ...


# KEYS[1]: the account's set. ARGV: member, now (us), window (us), allowed (RECORD_ONLY: never refuse),
# ttl (s). Returns 1 (counted) or 0 (refused). Members at exactly now - window still count, as
# `created_at >= now - 24 h` did. GT: a late caller with an older `now` never moves a time back.
REACH_LUA = """
local now = tonumber(ARGV[2])
local allowed = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[3])))
if allowed >= 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= allowed then
  return 0
end
redis.call('ZADD', KEYS[1], 'GT', string.format('%.0f', now), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisReachCounter:
    def __init__(self, *, url: str):
        self.url = url
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS, socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS
        )
        self._script = self._client.register_script(REACH_LUA)  # EVALSHA, reloaded on NOSCRIPT

    def add(self, key: str, member: str, *, now_us: int, window_us: int, allowed: int) -> bool:
        return self._script(keys=[key], args=[member, now_us, window_us, allowed, KEY_TTL_SECONDS]) == 1


def counter() -> ReachCounter:
    """This process's counter: Redis if REDIS_URL is set, else the shared SQLite file."""
    return _counter_for(settings.REDIS_URL, str(settings.DEMO_DATA_DIR))


@lru_cache(maxsize=4)
def _counter_for(redis_url: str, data_dir: str) -> ReachCounter:
    if redis_url:
        return RedisReachCounter(url=redis_url)
    return SqliteReachCounter(path=Path(data_dir) / "reach.sqlite3")


def reach_key(*, business_account: BusinessAccount) -> str:
    # Under the limiter's prefix: one namespace for the send path's limits.
    return f"{KEY_PREFIX}:reach:{business_account.waba_id}"


def reach_admit(*, business_account: BusinessAccount, contact_id: int, allowed: int, now: datetime) -> bool:
    """Count the user unless they are new and `allowed` users were reached; False: refused.
    Raises ReachUnknown when the store cannot answer."""
    try:
        return _add(business_account, contact_id, now=now, allowed=max(int(allowed), 0))
    except ReachUnknown as error:
        _log_outage(error, refusing=True)
        raise


def reach_record(*, business_account: BusinessAccount, contact_id: int, now: datetime) -> None:
    """Count a template send the share never refuses. An outage loses the record, never the send."""
    try:
        _add(business_account, contact_id, now=now, allowed=RECORD_ONLY)
    except ReachUnknown as error:
        _log_outage(error, refusing=False)


def _add(business_account: BusinessAccount, contact_id: int, *, now: datetime, allowed: int) -> bool:
    key = reach_key(business_account=business_account)
    now_us = (now - EPOCH) // timedelta(microseconds=1)  # exact: no float on the way
    try:
        return counter().add(key, str(contact_id), now_us=now_us, window_us=WINDOW_US, allowed=allowed)
    except STORE_ERRORS as error:
        raise ReachUnknown(f"{type(error).__name__}: {error} [{key}]") from error


_last_outage_log = float("-inf")


def _log_outage(error: ReachUnknown, *, refusing: bool) -> None:
    """One warning per outage and interval, not one per message."""
    global _last_outage_log
    level = logging.DEBUG
    if time.monotonic() - _last_outage_log >= OUTAGE_LOG_EVERY_SECONDS:
        _last_outage_log, level = time.monotonic(), logging.WARNING
    effect = "refusing marketing (fail closed)" if refusing else "a send goes uncounted"
    logger.log(level, "reach counter store failed, %s: %s", effect, error)
