"""A number's cool-down after 130429: its schedule on an injected clock, and the shared stores."""

import time
import uuid

import pytest
import redis

from outbound import cooldown, ratelimit
from outbound.cooldown import UNLIMITED, cooldown_clean, cooldown_gate, cooldown_release, cooldown_throttled
from outbound.ratelimit import RedisRateLimiter
from outbound.ratelimit_sqlite import SqliteRateLimiter
from tests.support.rate_clock import T0, FakeClock, number

S = 1_000_000  # one second in microseconds


class Number:
    """One number's cool-down record, driven through the pure functions on a clock we move."""

    def __init__(self):
        self.state, self.now = None, T0

    def throttled(self) -> float:
        self.state = cooldown_throttled(self.state, self.now)
        return (self.state.until_us - self.now) / S

    def gate(self) -> tuple[int, int]:
        self.state, allowed, retry = cooldown_gate(self.state, self.now)
        return allowed, retry

    def clean(self) -> None:
        self.state = cooldown_clean(self.state, self.now)

    def wait(self, seconds: float) -> None:
        self.now += round(seconds * S)

    def probe(self, *, answer: str) -> float | None:
        """Wait out the cool-down, send the one probe, and report Meta's answer."""
        self.wait((self.state.until_us - self.now) / S)
        assert self.gate() == (1, 0)
        if answer == "130429":
            return self.throttled()
        self.clean()
        return None


def test_the_cool_down_starts_at_1_s_and_doubles_per_consecutive_130429_up_to_60_s():
    num = Number()
    schedule = [num.throttled()] + [num.probe(answer="130429") for _ in range(7)]
    assert schedule == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_whole_number_waits_while_it_cools_then_one_probe_goes_first():
    num = Number()
    num.throttled()
    assert num.gate() == (0, S)
    num.wait(0.4)
    assert num.gate() == (0, 0.6 * S)

    num.wait(0.6)
    assert num.gate() == (1, 0)  # the probe
    assert num.gate() == (0, cooldown.PROBE_WAIT_US)  # everyone else waits for its answer
    num.clean()
    assert num.gate() == (UNLIMITED, 0)


def test_130429s_of_calls_made_before_the_cool_down_do_not_double_it():
    num = Number()
    assert num.throttled() == 1
    num.wait(0.05)
    assert [num.throttled() for _ in range(5)] == [0.95] * 5  # the other calls that were in flight
    assert num.state.level == 1


def test_30_clean_seconds_forget_the_count():
    num = Number()
    num.throttled()
    num.probe(answer="130429")
    num.probe(answer="clean")
    num.wait(29.9)
    assert num.throttled() == 4  # still consecutive: doubled again
    num.probe(answer="clean")
    num.wait(30)
    assert num.gate() == (UNLIMITED, 0) and cooldown.live(num.state, num.now) is None
    assert num.throttled() == 1


def test_a_probe_that_never_answers_is_given_up_and_a_probe_not_used_is_released():
    num = Number()
    num.throttled()
    num.wait(1)
    assert num.gate() == (1, 0)
    num.wait(cooldown.PROBE_TIMEOUT_US / S)
    assert num.gate() == (1, 0)  # its worker died: another goes

    num.state = cooldown_release(num.state, num.now)
    assert num.gate() == (1, 0)


# --- the stores: Redis runs the Lua mirror, SQLite the functions above ----------------------


@pytest.fixture(params=["redis", "sqlite"])
def store(request, settings, tmp_path, monkeypatch):
    """(limiter, advance): advance sleeps for Redis (its clock is its own) or moves SQLite's."""
    if request.param == "redis":
        chosen, advance = RedisRateLimiter(url=settings.REDIS_URL), time.sleep
    else:
        clock = FakeClock()
        chosen, advance = SqliteRateLimiter(path=tmp_path / "ratelimit.sqlite3", clock_us=clock), clock.advance
    monkeypatch.setattr(ratelimit, "limiter", lambda: chosen)
    return chosen, advance


def test_both_stores_cool_the_number_down_and_let_one_probe_through(store):
    limiter, advance = store
    phone = number(80)
    assert ratelimit.number_take(phone_number=phone, count=3).granted == 3

    assert 0.9 <= ratelimit.number_throttled(phone_number=phone) <= 1.0
    assert 0.9 <= ratelimit.number_throttled(phone_number=phone) <= 1.0  # in flight before: no doubling
    held = ratelimit.number_take(phone_number=phone, count=10)
    assert held.granted == 0 and 0.8 <= held.retry_after <= 1.0

    advance(1.0)
    assert ratelimit.number_take(phone_number=phone, count=10).granted == 1  # the probe
    assert ratelimit.number_take(phone_number=phone, count=10).granted == 0
    assert 1.9 <= ratelimit.number_throttled(phone_number=phone) <= 2.0  # the probe got 130429 too

    advance(2.0)
    assert ratelimit.number_take(phone_number=phone, count=10).granted == 1
    ratelimit.number_clean(phone_number=phone)
    assert ratelimit.number_take(phone_number=phone, count=10).granted == 3  # the burst, less the probe


def test_the_redis_record_lives_until_30_clean_seconds_have_passed(settings):
    phone = number(80)
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = ratelimit.cooldown_key(phone_number=phone)
    ratelimit.number_throttled(phone_number=phone)
    assert 30_900 <= client.pttl(key) <= 31_000


def test_workers_share_the_cool_down_through_the_store(settings):
    phone = number(80)
    first, second = (RedisRateLimiter(url=settings.REDIS_URL) for _ in range(2))
    first.cooldown(ratelimit.cooldown_key(phone_number=phone), "throttled")
    allowed, retry_us = second.cooldown(ratelimit.cooldown_key(phone_number=phone), "gate")
    assert allowed == 0 and retry_us > 900_000


# --- inbound messages take the number's tokens -----------------------------------------------


def test_inbound_messages_leave_less_for_the_sends(store):
    limiter, advance = store
    quiet, busy = number(80), number(80)
    ratelimit.number_charge_inbound(phone_number=busy, count=3)  # three customers wrote

    assert ratelimit.number_acquire_many(phone_number=quiet, count=10) == 4
    assert ratelimit.number_acquire_many(phone_number=busy, count=10) == 1


def test_an_inbound_flood_holds_sends_back_at_most_a_second(store):
    limiter, advance = store
    phone = number(80)
    ratelimit.number_charge_inbound(phone_number=phone, count=10_000)
    assert ratelimit.number_acquire_many(phone_number=phone, count=10) == 0
    advance(1.0)
    assert ratelimit.number_acquire_many(phone_number=phone, count=10) >= 1


def test_an_unreachable_store_never_stops_ingest_and_holds_sends():
    from tests.workers import free_port

    limiter = RedisRateLimiter(url=f"redis://127.0.0.1:{free_port()}/0")
    key = f"test:{uuid.uuid4().hex}"
    limiter.charge(key, 3, rate_per_second=76, max_ahead_seconds=1.0)  # logs, does not raise
    assert limiter.cooldown(key, "gate") == (0, 1_000_000)
