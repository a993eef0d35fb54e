"""The send path's rate limiter: GCRA per number and per recipient, on Redis and on SQLite."""

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from bench.ratelimit import hammer_processes, max_in_window
from outbound import gcra, ratelimit
from outbound.gcra import Decision, gcra_step, interval_us
from outbound.ratelimit import RedisRateLimiter
from outbound.ratelimit_sqlite import SqliteRateLimiter
from tests.support.rate_clock import T0, FakeClock, number
from tests.workers import free_port

# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Backend:
    limiter: gcra.RateLimiter
    advance: Callable[[float], None]  # let time pass: sleep (Redis) or move the fake clock (SQLite)
    slop: float  # how much real time the calls themselves may take, in seconds


@pytest.fixture(params=["redis", "sqlite"])
def backend(request, settings, tmp_path, monkeypatch) -> Backend:
    """Each backend, also installed as `ratelimit.limiter()` for the convenience functions."""
    if request.param == "redis":
        chosen = Backend(RedisRateLimiter(url=settings.REDIS_URL), time.sleep, slop=0.05)
    else:
        clock = FakeClock()
        chosen = Backend(SqliteRateLimiter(path=tmp_path / "ratelimit.sqlite3", clock_us=clock), clock.advance, 0.0)
    monkeypatch.setattr(ratelimit, "limiter", lambda: chosen.limiter)
    return chosen


@pytest.fixture
def key() -> str:
    return f"test:ratelimit:{uuid.uuid4().hex}"


# --- the algorithm, exact to the microsecond ------------------------------------------------

EVERY_80TH = 12_500  # us: 80 messages/s


def test_gcra_lets_the_burst_through_then_one_per_interval():
    tat, granted = None, []
    for now in [T0, T0, T0, T0, T0, T0 + EVERY_80TH, T0 + EVERY_80TH, T0 + 2 * EVERY_80TH]:
        step = gcra_step(tat_us=tat, now_us=now, count=1, interval_us=EVERY_80TH, burst=4)
        tat = step.tat_us
        granted.append(step.granted)

    assert granted == [1, 1, 1, 1, 0, 1, 0, 1]


def test_gcra_retry_after_is_the_moment_the_next_message_conforms():
    full = gcra_step(tat_us=None, now_us=T0, count=4, interval_us=EVERY_80TH, burst=4)
    assert full.retry_after_us == 0

    denied = gcra_step(tat_us=full.tat_us, now_us=T0 + 5_000, count=1, interval_us=EVERY_80TH, burst=4)
    assert (denied.granted, denied.retry_after_us, denied.tat_us) == (0, 7_500, full.tat_us)

    early = gcra_step(tat_us=full.tat_us, now_us=T0 + 12_499, count=1, interval_us=EVERY_80TH, burst=4)
    on_time = gcra_step(tat_us=full.tat_us, now_us=T0 + 12_500, count=1, interval_us=EVERY_80TH, burst=4)
    assert (early.granted, early.retry_after_us, on_time.granted) == (0, 1, 1)


def test_gcra_acquire_many_grants_what_conforms_now():
    first = gcra_step(tat_us=None, now_us=T0, count=10, interval_us=EVERY_80TH, burst=4)
    assert (first.granted, first.retry_after_us) == (4, EVERY_80TH)

    # 30 ms later 2.4 intervals have passed: two more conform, the third in 7.5 ms.
    later = gcra_step(tat_us=first.tat_us, now_us=T0 + 30_000, count=10, interval_us=EVERY_80TH, burst=4)
    assert (later.granted, later.retry_after_us) == (2, 7_500)


def test_gcra_an_idle_key_earns_no_more_than_the_burst():
    step = gcra_step(tat_us=T0, now_us=T0 + 3600 * 1_000_000, count=1000, interval_us=EVERY_80TH, burst=4)
    assert step.granted == 4


@given(
    burst=st.integers(1, 20),
    interval=st.integers(1, 50_000),
    requests=st.lists(st.tuples(st.integers(0, 40_000), st.integers(1, 30)), min_size=1, max_size=60),
)
def test_gcra_never_exceeds_burst_plus_rate_and_retry_after_is_exact(burst, interval, requests):
    now, tat, grants = T0, None, []
    for gap, count in requests:
        now += gap
        step = gcra_step(tat_us=tat, now_us=now, count=count, interval_us=interval, burst=burst)
        if step.granted < count:
            # Not a microsecond earlier, and exactly then, one more conforms.
            assert step.retry_after_us > 0
            before = gcra_step(
                tat_us=step.tat_us, now_us=now + step.retry_after_us - 1, count=1, interval_us=interval, burst=burst
            )
            at = gcra_step(
                tat_us=step.tat_us, now_us=now + step.retry_after_us, count=1, interval_us=interval, burst=burst
            )
            assert (before.granted, at.granted) == (0, 1)
        tat = step.tat_us
        grants += [now] * step.granted
    # Any k consecutive grants span at least (k - burst) intervals.
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            assert j - i + 1 <= burst + (grants[j] - grants[i]) // interval


def test_interval_rounds_up_so_the_rate_is_never_exceeded():
    assert [interval_us(r) for r in (80, 1000, 10 / 60, 3)] == [12_500, 1_000, 6_000_000, 333_334]
    with pytest.raises(ValueError):
        interval_us(0)
    with pytest.raises(ValueError):
        gcra.check_burst(0)


# --- both backends ------------------------------------------------------------------------


def test_burst_then_steady_rate_with_exact_retry_after(backend, key):
    limits = {"rate_per_second": 10, "burst": 3}
    assert [backend.limiter.acquire(key, **limits).allowed for _ in range(3)] == [True] * 3

    denied = backend.limiter.acquire(key, **limits)
    assert not denied.allowed
    assert 0.1 - backend.slop <= denied.retry_after <= 0.1

    backend.advance(denied.retry_after)
    assert backend.limiter.acquire(key, **limits) == Decision(allowed=True, retry_after=0.0)
    again = backend.limiter.acquire(key, **limits)
    assert not again.allowed and 0.1 - backend.slop <= again.retry_after <= 0.1


def test_acquire_many_grants_part_of_a_batch_and_keeps_the_rest_waiting(backend, key):
    limits = {"rate_per_second": 10, "burst": 3}
    assert backend.limiter.acquire_many(key, 10, **limits) == 3
    assert backend.limiter.acquire_many(key, 10, **limits) == 0
    backend.advance(0.25)
    assert backend.limiter.acquire_many(key, 10, **limits) == 2
    assert backend.limiter.acquire_many(key, 0, **limits) == 0


def test_keys_do_not_share_a_limit(backend, key):
    limits = {"rate_per_second": 1, "burst": 1}
    assert backend.limiter.acquire(key + ":a", **limits).allowed
    assert backend.limiter.acquire(key + ":b", **limits).allowed
    assert not backend.limiter.acquire(key + ":a", **limits).allowed


def test_pair_limit_lets_replies_and_quick_taps_through_and_holds_the_12th(backend, settings):
    settings.WACO_PAIR_RATE_PER_MINUTE, settings.WACO_PAIR_BURST = 10, 10
    phone = number()
    decisions = []
    # The customer taps every 2 s and each tap gets a three-message reply.
    for tap in range(4):
        if tap:
            backend.advance(2.0)
        decisions += [ratelimit.pair_acquire(phone_number=phone, recipient="971500000001") for _ in range(3)]

    assert [d.allowed for d in decisions] == [True] * 11 + [False]
    # 12 taken, 10 of burst and one per 6 s: the 12th conforms 6 s after the 11th.
    assert 6.0 - backend.slop <= decisions[-1].retry_after <= 6.0
    assert ratelimit.pair_acquire(phone_number=phone, recipient="971500000002").allowed


def test_number_limit_follows_the_numbers_throughput_with_a_5_percent_burst_and_10_percent_headroom(backend):
    for throughput, burst in [(80, 4), (1000, 50), (20, 1)]:
        phone = number(throughput)
        assert ratelimit.number_acquire_many(phone_number=phone, count=500) == burst
        held = ratelimit.number_take(phone_number=phone, count=500)
        # Only what the calls' own time earned, at 90% of the throughput less the burst.
        rate = throughput * 0.9 - burst
        assert held.granted <= 1 + backend.slop * rate
        assert 0 < held.retry_after <= interval_us(rate) / 1_000_000


def test_no_second_of_the_number_holds_more_than_its_throughput():
    """Burst and rate together: from idle, then flat out, any 1 s window grants at most 80."""
    step = ratelimit.number_rate(phone_number=number(80))
    interval, burst = interval_us(step[0]), step[1]
    tat, grants = None, []
    for now in range(T0, T0 + 3_000_000, 1_000):  # asking every millisecond for 3 s
        result = gcra_step(tat_us=tat, now_us=now, count=100, interval_us=interval, burst=burst)
        tat, grants = result.tat_us, grants + [now] * result.granted
    assert max_in_window([g / 1_000_000 for g in grants], 1.0) <= 80


# --- choosing the backend -----------------------------------------------------------------


def test_with_redis_configured_the_limiter_is_redis_one_per_process(settings):
    assert isinstance(ratelimit.limiter(), RedisRateLimiter)
    assert ratelimit.limiter() is ratelimit.limiter()


def test_without_redis_the_limiter_is_a_sqlite_file_under_the_data_dir(settings, tmp_path, key):
    settings.REDIS_URL, settings.DEMO_DATA_DIR = "", tmp_path
    chosen = ratelimit.limiter()

    assert isinstance(chosen, SqliteRateLimiter)
    assert chosen.acquire(key, rate_per_second=1, burst=1).allowed
    assert not chosen.acquire(key, rate_per_second=1, burst=1).allowed
    with sqlite3.connect(tmp_path / "ratelimit.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count(*) FROM gcra WHERE key = ?", (key,)).fetchone() == (1,)


def test_redis_runs_the_script_by_sha(settings, key):
    limiter = RedisRateLimiter(url=settings.REDIS_URL)
    limiter.acquire(key, rate_per_second=1, burst=1)
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.script_exists(limiter._script.sha) == [True]


# --- outages: deny, never send over the limit ---------------------------------------------


@pytest.fixture
def outage_log(caplog, monkeypatch):
    monkeypatch.setattr(gcra, "_last_outage_log", float("-inf"))
    caplog.set_level(logging.WARNING, logger="outbound.ratelimit")
    return caplog


def test_unreachable_redis_denies_with_a_short_retry_and_logs(outage_log, key):
    limiter = RedisRateLimiter(url=f"redis://127.0.0.1:{free_port()}/0")

    assert limiter.acquire(key, rate_per_second=80, burst=4) == Decision(allowed=False, retry_after=1.0)
    assert limiter.acquire_many(key, 10, rate_per_second=80, burst=4) == 0
    assert "fail closed" in outage_log.text


def test_redis_restarted_denies_while_down_and_reloads_the_script(private_redis, outage_log, key):
    limiter = RedisRateLimiter(url=private_redis.url)
    assert limiter.acquire(key, rate_per_second=1000, burst=10).allowed

    private_redis.stop()
    assert not limiter.acquire(key, rate_per_second=1000, burst=10).allowed

    private_redis.start()  # empty: the script is gone, EVALSHA gets NOSCRIPT and loads it
    assert limiter.acquire(key, rate_per_second=1000, burst=10).allowed


def test_sqlite_locked_too_long_denies_with_a_short_retry(tmp_path, outage_log, key):
    limiter = SqliteRateLimiter(path=tmp_path / "ratelimit.sqlite3", busy_timeout_ms=50)
    assert limiter.acquire(key, rate_per_second=1000, burst=10).allowed
    other = sqlite3.connect(tmp_path / "ratelimit.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    assert limiter.acquire(key, rate_per_second=1000, burst=10) == Decision(allowed=False, retry_after=1.0)
    assert "fail closed" in outage_log.text

    other.execute("ROLLBACK")
    assert limiter.acquire(key, rate_per_second=1000, burst=10).allowed


# --- keys expire on their own -------------------------------------------------------------


def test_redis_key_expires_at_its_tat(settings, key):
    limiter = RedisRateLimiter(url=settings.REDIS_URL)
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert limiter.acquire_many(key, 2, rate_per_second=10, burst=2) == 2
    assert 0 < client.pttl(key) <= 200

    time.sleep(0.25)  # past the key's TTL (a deadline Redis enforces, not a wait for work)
    assert client.exists(key) == 0
    # Gone means idle: the whole burst again.
    assert limiter.acquire_many(key, 5, rate_per_second=10, burst=2) == 2


def test_sqlite_rows_past_their_tat_are_swept(tmp_path, key):
    clock = FakeClock()
    limiter = SqliteRateLimiter(path=tmp_path / "ratelimit.sqlite3", clock_us=clock)
    assert limiter.acquire_many(key, 2, rate_per_second=10, burst=2) == 2
    assert limiter.prune() == 0

    clock.advance(0.2)
    assert limiter.prune() == 0  # TAT is now: still the full burst's worth of memory
    clock.advance(0.001)
    assert limiter.prune() == 1
    assert limiter.acquire_many(key, 5, rate_per_second=10, burst=2) == 2


# --- several processes on one key ---------------------------------------------------------

HAMMER_RATE, HAMMER_BURST, HAMMER_SECONDS = 80, 4, 10.0


@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_four_processes_on_one_number_get_80_per_second_and_never_more_than_88_in_a_second(store, settings, tmp_path):
    spec = settings.REDIS_URL if store == "redis" else str(tmp_path / "ratelimit.sqlite3")
    # Two processes take one message at a time, two take batches of 1..5.
    _, results = hammer_processes(
        spec=spec, rate_per_second=HAMMER_RATE, burst=HAMMER_BURST, seconds=HAMMER_SECONDS, batches=[1, 1, 5, 5]
    )
    grants = [t for r in results for t in r.grants]
    average, busiest = len(grants) / HAMMER_SECONDS, max_in_window(grants, 1.0)
    print(
        f"{store}: {len(grants)} grants, {average:.1f}/s, busiest second {busiest}, "
        f"calls per process {[r.calls for r in results]}"
    )

    assert all(r.calls > 1000 for r in results)  # every process really hammered
    assert abs(average - HAMMER_RATE) <= 4
    assert busiest <= 88
