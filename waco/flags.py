"""Short-lived flags shared by every process: Redis when configured, else Django's cache.

For hot paths (the webhook request): a module-level Redis client costs a tenth
of Django's cache API, which builds a new client object on every call.
"""

import time
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache


@lru_cache(maxsize=1)
def _redis_client(url: str) -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per process is safe.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def flag_set_if_absent(key: str, ttl_seconds: int) -> bool:
    """Set `key` for `ttl_seconds` unless it is set; True when this call set it."""
    if settings.REDIS_URL:
        return bool(_redis_client(settings.REDIS_URL).set(key, 1, nx=True, ex=ttl_seconds))
    return cache.add(key, 1, ttl_seconds)


def flag_set(key: str, ttl_seconds: int) -> None:
    """Set `key` for `ttl_seconds`, set or not."""
    if settings.REDIS_URL:
        _redis_client(settings.REDIS_URL).set(key, 1, ex=ttl_seconds)
    else:
        cache.set(key, 1, ttl_seconds)


def flag_clear(key: str) -> None:
    if settings.REDIS_URL:
        _redis_client(settings.REDIS_URL).delete(key)
    else:
        cache.delete(key)


def members_touch(key: str, member: str, ttl_seconds: float) -> int:
    """Mark `member` live in the set `key`; forget members not touched for `ttl_seconds`.

    Returns how many members are live, this one included. Without Redis (the
    demo) there is no shared count, and every caller is told it is alone.
    """
    if not settings.REDIS_URL:
        return 1
    now = time.time()
    pipe = _redis_client(settings.REDIS_URL).pipeline()
    pipe.zadd(key, {member: now})
    pipe.zremrangebyscore(key, "-inf", now - ttl_seconds)
    pipe.zcard(key)
    pipe.expire(key, int(ttl_seconds) + 1)
    return int(pipe.execute()[2])


def member_remove(key: str, member: str) -> None:
    if settings.REDIS_URL:
        _redis_client(settings.REDIS_URL).zrem(key, member)


def recent_times_push(key: str, at: float, keep: int, ttl_seconds: int) -> list[float]:
    """Record the moment `at` in the list `key`; returns the latest `keep` moments, newest first.

    One round trip, and at most `keep` entries however many are pushed (a flood costs
    no memory). The list is forgotten `ttl_seconds` after the last push.
    """
    if not settings.REDIS_URL:
        times = ([at] + cache.get(key, []))[:keep]
        cache.set(key, times, ttl_seconds)
        return times
    pipe = _redis_client(settings.REDIS_URL).pipeline()
    pipe.lpush(key, at)
    pipe.ltrim(key, 0, keep - 1)
    pipe.lrange(key, 0, -1)
    pipe.expire(key, ttl_seconds)
    return [float(t) for t in pipe.execute()[2]]


def recent_times(key: str) -> list[float]:
    """The moments `recent_times_push` kept, newest first."""
    if not settings.REDIS_URL:
        return cache.get(key, [])
    return [float(t) for t in _redis_client(settings.REDIS_URL).lrange(key, 0, -1)]


def counter_incr(key: str, ttl_seconds: int) -> int:
    """Add one to the counter `key`, created for `ttl_seconds` at its first call; returns the new count.

    Without Redis (the demo) Django's file cache counts: not atomic across processes, so a
    demo may let a few more through than the limit, never lock a caller out.
    """
    if not settings.REDIS_URL:
        cache.add(key, 0, ttl_seconds)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, ttl_seconds)
            return 1
    pipe = _redis_client(settings.REDIS_URL).pipeline()
    pipe.set(key, 0, ex=ttl_seconds, nx=True)
    pipe.incr(key)
    return int(pipe.execute()[1])
