"""Exponential backoff with jitter, so a burst of failures does not retry in step."""

import random
from datetime import timedelta


def backoff_delay(attempts: int, *, base: timedelta, cap: timedelta, jitter: float = 0.2) -> timedelta:
    """base * 2^(attempts-1), capped, times a random factor in [1-jitter, 1+jitter]."""
    delay = base
    # Doubled only until the cap: base * 2^(attempts-1) overflows a timedelta past some 40 attempts.
    for _ in range(max(attempts - 1, 0)):
        if delay >= cap:
            break
        delay *= 2
    return min(delay, cap) * random.uniform(1 - jitter, 1 + jitter)
