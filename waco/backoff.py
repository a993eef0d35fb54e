"""Exponential backoff with jitter, so a burst of failures does not retry in step."""

import random
from datetime import timedelta


def backoff_delay(attempts: int, *, base: timedelta, cap: timedelta, jitter: float = 0.2) -> timedelta:
    """base * 2^(attempts-1), capped, times a random factor in [1-jitter, 1+jitter]."""
    delay = min(base * (2 ** max(attempts - 1, 0)), cap)
    return delay * random.uniform(1 - jitter, 1 + jitter)
