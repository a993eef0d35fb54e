"""Short-lived flags shared by every process: Redis when configured, else Django's cache.

For hot paths (the webhook request): a module-level Redis client costs a tenth
of Django's cache API, which builds a new client object on every call.
"""

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


def flag_clear(key: str) -> None:
    if settings.REDIS_URL:
        _redis_client(settings.REDIS_URL).delete(key)
    else:
        cache.delete(key)
