"""Token buckets for a number's throughput (130429) and the pair limit (131056).

Kept in process memory under a lock: correct across the threads of one
process. Several processes serving the sandbox each hold their own buckets,
so the effective limit multiplies; run one sandbox process when a benchmark
measures against the limit.
"""

import threading
import time

_lock = threading.Lock()
_buckets: dict[tuple, list[float]] = {}
# Pair buckets are one per recipient; prune full ones past this size.
_MAX_BUCKETS = 100_000


def bucket_take(key: tuple, *, rate_per_second: float, capacity: float, now: float | None = None) -> bool:
    """Take one token from the bucket `key`; False when it is empty.

    time.time() rather than monotonic, so tests can move the clock with time-machine.
    """
    now = time.time() if now is None else now
    with _lock:
        bucket = _buckets.get(key)
        if bucket is None:
            if len(_buckets) >= _MAX_BUCKETS:
                _prune(now)
            bucket = _buckets[key] = [float(capacity), now]
        tokens, updated = bucket
        tokens = min(float(capacity), tokens + max(0.0, now - updated) * rate_per_second)
        if tokens < 1:
            bucket[:] = [tokens, now]
            return False
        bucket[:] = [tokens - 1, now]
        return True


def _prune(now: float) -> None:
    # Without the rate at hand, drop buckets idle for a minute: at any realistic
    # pair rate they would be nearly full again.
    for key in [k for k, (_, updated) in _buckets.items() if now - updated > 60]:
        del _buckets[key]
    if len(_buckets) >= _MAX_BUCKETS:
        _buckets.clear()


def buckets_reset() -> None:
    with _lock:
        _buckets.clear()
