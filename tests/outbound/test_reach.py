"""The portfolio's reach (unique users of a moving 24 h) and marketing's share of it, on Redis and SQLite."""

import logging
import sqlite3
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbound import policy, reach
from outbound.models import MessageCategory, MessageStatus
from outbound.reach import ReachUnknown, RedisReachCounter
from outbound.reach_sqlite import SqliteReachCounter
from templates_lib.models import TemplateCategory
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.consent import MARKETING_PARAMS, decide_marketing, opted_in
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from tests.workers import free_port
from waco.channels.models import BusinessAccount, MessagingLimitTier

T0 = timezone.now().replace(microsecond=0)

# --- the counter, on each backend -------------------------------------------------------------


@pytest.fixture(params=["redis", "sqlite"])
def store(request, settings, tmp_path, monkeypatch) -> reach.ReachCounter:
    """Each backend, installed as `reach.counter()`."""
    if request.param == "redis":
        chosen = RedisReachCounter(url=settings.REDIS_URL)
    else:
        chosen = SqliteReachCounter(path=tmp_path / "reach.sqlite3")
    monkeypatch.setattr(reach, "counter", lambda: chosen)
    return chosen


@pytest.fixture
def account() -> BusinessAccount:
    # Unsaved: the counter reads waba_id only. Its key is under waco:ratelimit:, swept between tests.
    return BusinessAccount(waba_id=f"test-{uuid.uuid4().hex}")


def admit(account, contact_id, *, allowed, now=T0) -> bool:
    return reach.reach_admit(business_account=account, contact_id=contact_id, allowed=allowed, now=now)


def test_a_user_counts_once_however_many_sends(store, account):
    assert all(admit(account, 1, allowed=1, now=T0 + timedelta(minutes=n)) for n in range(5))
    reach.reach_record(business_account=account, contact_id=1, now=T0 + timedelta(minutes=6))

    assert not admit(account, 2, allowed=1)


def test_the_share_refuses_the_next_newcomer_and_still_allows_a_user_already_counted(store, account):
    assert [admit(account, user, allowed=3) for user in (1, 2, 3, 4)] == [True, True, True, False]
    assert admit(account, 2, allowed=3)
    assert not admit(account, 4, allowed=3)  # a refusal counts nobody: still full, not over
    assert admit(account, 4, allowed=4)


def test_users_drop_out_24_hours_after_their_latest_send(store, account):
    assert admit(account, 1, allowed=2, now=T0)
    assert admit(account, 2, allowed=2, now=T0)
    assert admit(account, 1, allowed=2, now=T0 + timedelta(hours=12))  # a later send: 1 counts until T0 + 36 h

    assert not admit(account, 3, allowed=2, now=T0 + timedelta(hours=24))  # at exactly 24 h, 2 still counts
    assert admit(account, 3, allowed=2, now=T0 + timedelta(hours=24, microseconds=1))
    assert not admit(account, 4, allowed=2, now=T0 + timedelta(hours=30))  # 1 and 3
    assert admit(account, 4, allowed=2, now=T0 + timedelta(hours=36, microseconds=1))


def test_a_late_caller_with_an_older_clock_never_moves_a_users_time_back(store, account):
    assert admit(account, 1, allowed=1, now=T0 + timedelta(hours=10))
    assert admit(account, 1, allowed=1, now=T0)  # a worker that read its clock before the other

    assert not admit(account, 2, allowed=1, now=T0 + timedelta(hours=30))  # 1 counts until T0 + 34 h


def test_a_record_is_never_refused_and_takes_its_place_in_the_share(store, account):
    for user in range(1, 6):
        reach.reach_record(business_account=account, contact_id=user, now=T0)

    assert not admit(account, 6, allowed=5)
    assert admit(account, 3, allowed=5)


def test_accounts_do_not_share_a_count(store, account):
    other = BusinessAccount(waba_id=f"test-{uuid.uuid4().hex}")
    assert admit(account, 1, allowed=1)
    assert admit(other, 2, allowed=1)


def test_workers_racing_for_the_last_place_admit_exactly_one(store, account, racers=16):
    for user in range(9):
        assert admit(account, user, allowed=10)
    start, answers = threading.Barrier(racers), []

    def race(user):
        start.wait()
        answers.append(admit(account, user, allowed=10))

    threads = [threading.Thread(target=race, args=(100 + n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [False] * (racers - 1) + [True]


def test_redis_keeps_one_sorted_set_per_account_that_expires_after_a_day(settings, account):
    admit(account, 7, allowed=10)
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = reach.reach_key(business_account=account)

    assert client.zrange(key, 0, -1, withscores=True) == [(b"7", T0.timestamp() * 1_000_000)]
    assert 24 * 3600 < client.ttl(key) <= reach.KEY_TTL_SECONDS


# --- choosing the backend, and outages ------------------------------------------------------------


def test_with_redis_configured_the_counter_is_redis_one_per_process():
    assert isinstance(reach.counter(), RedisReachCounter)
    assert reach.counter() is reach.counter()


def test_without_redis_the_counter_is_a_sqlite_file_under_the_data_dir(settings, tmp_path, account):
    settings.REDIS_URL, settings.DEMO_DATA_DIR = "", tmp_path
    assert isinstance(reach.counter(), SqliteReachCounter)

    assert admit(account, 1, allowed=1)
    assert not admit(account, 2, allowed=1)
    with sqlite3.connect(tmp_path / "reach.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT member FROM reach").fetchall() == [("1",)]


@pytest.fixture
def outage_log(caplog, monkeypatch):
    monkeypatch.setattr(reach, "_last_outage_log", float("-inf"))
    caplog.set_level(logging.WARNING, logger="outbound.reach")
    return caplog


@pytest.fixture
def redis_down(monkeypatch):
    down = RedisReachCounter(url=f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(reach, "counter", lambda: down)
    return down


def test_unreachable_redis_refuses_to_admit_and_loses_a_record_quietly(redis_down, outage_log, account):
    with pytest.raises(ReachUnknown):
        admit(account, 1, allowed=10)
    assert "refusing marketing (fail closed)" in outage_log.text

    reach.reach_record(business_account=account, contact_id=1, now=T0)  # does not raise


def test_sqlite_locked_too_long_refuses_to_admit(tmp_path, monkeypatch, account):
    store = SqliteReachCounter(path=tmp_path / "reach.sqlite3", busy_timeout_ms=50)
    monkeypatch.setattr(reach, "counter", lambda: store)
    assert admit(account, 1, allowed=10)
    other = sqlite3.connect(tmp_path / "reach.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    with pytest.raises(ReachUnknown):
        admit(account, 2, allowed=10)
    other.execute("ROLLBACK")
    other.close()
    assert admit(account, 2, allowed=10)


# --- the policy counts through it ---------------------------------------------------------------


@pytest.fixture
def shop(db, settings):
    """A number on a 250-user tier whose marketing may reach 2 users a day (1%)."""
    settings.WACO_MARKETING_LIMIT_SHARE = 0.01
    number = PhoneNumberFactory(business_account__messaging_limit_tier=MessagingLimitTier.TIER_250)
    offer = TemplateFactory(business_account=number.business_account, category=TemplateCategory.MARKETING)
    PurposeTemplateFactory(purpose=PurposeFactory(key="cart_recovery"), template=offer, position=0)
    receipt = TemplateFactory(business_account=number.business_account, category=TemplateCategory.UTILITY)
    return number, offer, receipt


def send_receipt(number, receipt, contact):
    return policy.decide_template(
        phone_number=number, contact=contact, template=receipt, params=MARKETING_PARAMS, now=timezone.now()
    )


def test_utility_is_never_refused_and_counts_towards_marketings_share(shop):
    number, _, receipt = shop
    customers = [opted_in(ContactFactory()) for _ in range(3)]
    for customer in customers:  # past marketing's 2: receipts still go
        assert send_receipt(number, receipt, customer).template_name == receipt.name

    with pytest.raises(policy.PolicyRefusal, match="exceed 1% of the messaging limit"):
        decide_marketing(number, opted_in(ContactFactory()))
    assert decide_marketing(number, customers[0]).template_name  # already reached today


def test_a_refused_decision_counts_nobody(shop):
    number, _, _ = shop
    no_consent = ContactFactory()
    with pytest.raises(policy.PolicyRefusal, match="no marketing consent"):
        decide_marketing(number, no_consent)
    first, second = opted_in(ContactFactory()), opted_in(ContactFactory())

    assert decide_marketing(number, first).template_name and decide_marketing(number, second).template_name


def test_marketing_is_held_back_and_utility_goes_while_the_count_cannot_be_read(shop, redis_down):
    number, _, receipt = shop
    customer = opted_in(ContactFactory())

    with pytest.raises(policy.PolicyRefusal, match="cannot be counted"):
        decide_marketing(number, customer)
    assert send_receipt(number, receipt, customer).template_name == receipt.name


def test_an_unlimited_portfolio_counts_nothing(shop, settings):
    number, _, _ = shop
    number.business_account.messaging_limit_tier = MessagingLimitTier.TIER_UNLIMITED
    for _ in range(3):
        assert decide_marketing(number, opted_in(ContactFactory())).template_name
    assert not redis.Redis.from_url(settings.REDIS_URL).exists(
        reach.reach_key(business_account=number.business_account)
    )


def test_a_message_admitted_at_enqueue_is_not_refused_at_send_and_counts_from_its_send(shop):
    number, offer, _ = shop
    admitted = OutboundMessageFactory(
        phone_number=number,
        contact=opted_in(ContactFactory()),
        category=MessageCategory.MARKETING,
        template_name=offer.name,
        status=MessageStatus.SENDING,
    )
    # Admitted more than a day ago (held back since): the share filled with others meanwhile.
    reach.reach_record(
        business_account=number.business_account, contact_id=admitted.contact_id, now=T0 - timedelta(days=2)
    )
    for _ in range(2):
        decide_marketing(number, opted_in(ContactFactory()))
    facts = policy.Facts(window_open_until=None, consent_granted=lambda category: True)

    assert policy.recheck(message=admitted, facts=facts, now=timezone.now()) is None
    # Its send counts it again: 3 users reached, the 2-user share stays shut to a newcomer.
    refused = reach.reach_admit(
        business_account=number.business_account, contact_id=ContactFactory().pk, allowed=3, now=timezone.now()
    )
    assert refused is False


def test_a_marketing_decision_reads_no_recipients_however_many_were_reached_today(shop, settings):
    number, offer, receipt = shop
    settings.WACO_MARKETING_LIMIT_SHARE = 0.5

    def queries_of_a_decision() -> list[str]:
        customer = opted_in(ContactFactory())
        with CaptureQueriesContext(connection) as captured:
            decide_marketing(number, customer)
        return [query["sql"] for query in captured.captured_queries]

    few = queries_of_a_decision()
    for _ in range(40):  # 40 users reached today, in the outbox and in the count
        message = OutboundMessageFactory(
            phone_number=number, template_name=receipt.name, status=MessageStatus.DELIVERED
        )
        reach.reach_record(business_account=number.business_account, contact_id=message.contact_id, now=T0)
    many = queries_of_a_decision()

    assert len(many) == len(few)
    assert not [sql for sql in many if "outbound_outboundmessage" in sql]
