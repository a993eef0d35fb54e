"""The send path's rate limiter (outbound/ratelimit.py): acquire calls/s per process.

For each backend (Redis, the demo's SQLite file) it runs tight loops of
`acquire` and `acquire_many(10)` in 1 and 4 processes on one shared key, with
a limit high enough that every call is granted (the write path) and with 80/s
(nearly every call denied: the read-only path). No Django setup is needed:
the backends are built directly.

`hammer()` is the load generator; tests/outbound/test_ratelimit.py uses it to
check the limit across processes.
"""

import multiprocessing
import os
import random
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/2"
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
# Spawned children need this long to import and connect before the common start.
START_DELAY_SECONDS = 3.0
UNLIMITED = {"rate_per_second": 1e7, "burst": 1_000_000}
META_DEFAULT = {"rate_per_second": 80.0, "burst": 4}


@dataclass
class HammerResult:
    calls: int = 0
    grants: list[float] = field(default_factory=list)  # time.time() of each granted message


def limiter_for(spec: str):
    """A backend from a spec: a redis:// URL, or the path of a SQLite file."""
    from outbound.ratelimit import RedisRateLimiter
    from outbound.ratelimit_sqlite import SqliteRateLimiter

    if spec.startswith("redis://"):
        return RedisRateLimiter(url=spec)
    return SqliteRateLimiter(path=Path(spec))


def hammer(
    *, spec: str, key: str, rate_per_second: float, burst: int, start_at: float, seconds: float, batch: int = 1
) -> HammerResult:
    """Call the limiter in a tight loop from `start_at` for `seconds`; record each grant's time.

    batch 1 calls `acquire`; batch n calls `acquire_many` with 1..n at random.
    """
    limiter = limiter_for(spec)
    limiter.acquire(f"{key}:warm-up", rate_per_second=1.0, burst=1)  # connect, load the script
    time.sleep(max(0.0, start_at - time.time()))
    result, rng, end = HammerResult(), random.Random(os.getpid()), start_at + seconds
    while time.time() < end:
        result.calls += 1
        if batch == 1:
            if limiter.acquire(key, rate_per_second=rate_per_second, burst=burst).allowed:
                result.grants.append(time.time())
        else:
            granted = limiter.acquire_many(key, rng.randint(1, batch), rate_per_second=rate_per_second, burst=burst)
            result.grants.extend([time.time()] * granted)
    return result


def hammer_processes(
    *, spec: str, rate_per_second: float, burst: int, seconds: float, batches: list[int]
) -> tuple[float, list[HammerResult]]:
    """One process per entry of `batches`, all on one fresh key; returns (start time, results)."""
    key = f"bench:ratelimit:{uuid.uuid4().hex}"
    start_at = time.time() + START_DELAY_SECONDS
    # spawn, not fork: each child builds its own connections, as separate workers do.
    with ProcessPoolExecutor(len(batches), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(
                hammer,
                spec=spec,
                key=key,
                rate_per_second=rate_per_second,
                burst=burst,
                start_at=start_at,
                seconds=seconds,
                batch=batch,
            )
            for batch in batches
        ]
        return start_at, [f.result() for f in futures]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any window of `window` seconds (sliding, half-open)."""
    times, best, first = sorted(times), 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - window:
            first += 1
        best = max(best, last - first + 1)
    return best


def _report(name: str, spec: str, limits: dict, batch: int, processes: int) -> None:
    _, results = hammer_processes(spec=spec, seconds=SECONDS, batches=[batch] * processes, **limits)
    per_process = [r.calls / SECONDS for r in results]
    grants = [t for r in results for t in r.grants]
    call = "acquire" if batch == 1 else f"acquire_many(1..{batch})"
    print(
        f"{name:6} {call:20} {processes} proc, rate {limits['rate_per_second']:>10g}/s: "
        f"{sum(per_process) / processes:8.0f} calls/s per process, {sum(per_process):8.0f} total; "
        f"{len(grants) / SECONDS:9.1f} grants/s, max {max_in_window(grants)} in 1 s"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = [("redis", REDIS_URL), ("sqlite", str(Path(folder) / "ratelimit.sqlite3"))]
        for name, spec in backends:
            for limits in (UNLIMITED, META_DEFAULT):
                for processes in (1, 4):
                    _report(name, spec, limits, 1, processes)
                _report(name, spec, limits, 10, 4)


if __name__ == "__main__":
    main()
