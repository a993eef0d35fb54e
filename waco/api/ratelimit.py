"""Per-key request limits: a count per key and clock minute, on Redis (the demo: Django's cache)."""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from waco.api.models import ApiKey
from waco.flags import counter_incr

WINDOW_SECONDS = 60
# The suite's fixtures forget "waco:ratelimit:*" between tests.
KEY_PREFIX = "waco:ratelimit:api"


def rate_hit(key_id: int, limit: int, now: float | None = None) -> float:
    """Count one request of the key; 0 when allowed, else the seconds until the next window opens."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = counter_incr(f"{KEY_PREFIX}:{key_id}:{window}", WINDOW_SECONDS + 5)
    if count <= limit:
        return 0.0
    return (window + 1) * WINDOW_SECONDS - now


class ApiKeyRateThrottle(BaseThrottle):
    """WACO_API_RATE_PER_MINUTE requests per key and minute; more answer 429 with Retry-After."""

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        self.retry_after = rate_hit(request.auth.pk, settings.WACO_API_RATE_PER_MINUTE)
        return self.retry_after == 0

    def wait(self) -> float:
        return self.retry_after
