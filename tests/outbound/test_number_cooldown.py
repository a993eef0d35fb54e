"""A 130429 slows the whole number, not one message: counted at the sandbox and in the attempts log."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from bench.ratelimit import max_in_window
from outbound import ratelimit, sending, services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage, SendAttempt
from tests.support.sandbox_process import Outbox, sandbox_process  # noqa: F401  (a fixture)
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.workers import celery_worker, run_python, wait_until
from waco.alerts.models import Alert
from waco.celery_config import QUEUE_SERVICE
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts
from waco.sandbox import services as sandbox

RATE = 80
MESSAGES = 1000
CUSTOMERS = 500  # two messages each: the pair limit never binds
BURST_SECONDS = 10
THROTTLED = 130429
DRAINS = (
    "import django; django.setup(); from outbound.tasks import drain_outbox\n"
    "for _ in range(2): drain_outbox.apply_async(args=['service'], queue='service')"
)


def clusters(times: list[float], gap: float = 0.5) -> list[float]:
    """The starts of groups of calls: a new group begins after `gap` seconds without one."""
    starts, previous = [], None
    for t in sorted(times):
        if previous is None or t - previous > gap:
            starts.append(t)
        previous = t
    return starts


@pytest.mark.worker
def test_a_10_second_burst_of_130429_cools_the_number_and_loses_nothing(
    transactional_db,
    settings,
    live_server,
    sandbox_process,
    tmp_path,
    monkeypatch,  # noqa: F811
):
    shop = sandbox_shop_wire(settings, live_server)
    sandbox.config_update(changes={"lean": True, "numbers": {shop.number.graph_id: {"messages_per_second": RATE}}})
    monkeypatch.setattr(services, "outbox_ring", lambda *a, **k: None)  # the worker starts the drains below
    now = timezone.now()
    customers = [contacts.contact_resolve(wa_id=f"97156{n:07d}") for n in range(CUSTOMERS)]
    for customer in customers:
        contacts.window_touch(contact=customer, phone_number=shop.number, inbound_at=now)
    for n in range(MESSAGES):
        services.message_enqueue(
            phone_number=shop.number,
            contact=customers[n % CUSTOMERS],
            category=MessageCategory.SERVICE,
            purpose="reply",
            content={"type": "text", "text": {"body": f"#{n}"}},
        )
    env = {"WACO_GRAPH_API_BASE": f"{sandbox_process}/graph"}
    worker = celery_worker(tmp_path / "worker.log", concurrency=2, env=env).start()
    try:
        run_python(DRAINS, env)
        sends = Outbox(sandbox_process)
        wait_until(lambda: len(sends.read()) >= 100, timeout=60, interval=0.2, message="sends under way")
        sandbox.config_update(changes={"throttle_burst": 1_000_000})  # every call is answered 130429...
        burst_from = timezone.now()
        wait_until(
            lambda: timezone.now() >= burst_from + timedelta(seconds=BURST_SECONDS),
            timeout=BURST_SECONDS + 5,
            message="the burst's 10 s",
        )
        sandbox.config_update(changes={"throttle_burst": 0})  # ...for 10 s
        unsettled = OutboundMessage.objects.filter(status__in=(MessageStatus.QUEUED, MessageStatus.SENDING))
        wait_until(
            lambda: not unsettled.exists(), timeout=180, interval=0.5, message=lambda: f"{unsettled.count()} to settle"
        )
    finally:
        worker.stop()
        print("--- worker log tail ---\n" + worker.log_tail())

    # Nothing lost: every message was accepted once, or waits for a person.
    accepted = OutboundMessage.objects.filter(status=MessageStatus.ACCEPTED)
    needs_person = OutboundMessage.objects.filter(status=MessageStatus.FAILED, needs_person=True)
    assert accepted.count() + needs_person.count() == MESSAGES
    callbacks = [item["biz_opaque_callback_data"] for item in sends.read()]
    assert sorted(callbacks) == sorted(str(pk) for pk in accepted.values_list("pk", flat=True))

    # Never more than 80 calls in any second: the accepted ones at the sandbox, and every call Waco made.
    calls = list(SendAttempt.objects.values_list("started_at", "error_code"))
    call_times = [started.timestamp() for started, _ in calls]
    throttled = [started.timestamp() for started, code in calls if code == THROTTLED]
    print(
        f"{len(calls)} calls, {len(throttled)} answered 130429, busiest second {max_in_window(call_times)} calls, "
        f"{max_in_window([item['accepted_at'] for item in sends.read()])} accepted; 130429 groups at "
        f"{[round(t - throttled[0], 2) for t in clusters(throttled)] if throttled else []}"
    )
    assert max_in_window(call_times) <= RATE
    assert max_in_window([item["accepted_at"] for item in sends.read()]) <= RATE

    # Extra calls per 130429 at most 1.5 on average, and the burst cost few calls at all: the
    # number waited 1, 2, 4 then 8 s, sending one probe after each wait (a limiter that only
    # paced each message would have made some 800 calls into the 10 s burst).
    assert throttled, "the burst hit no call"
    assert (len(calls) - accepted.count()) / len(throttled) <= 1.5
    assert len(throttled) <= sending.SEND_CONCURRENCY + 4
    waits = [later - earlier for earlier, later in pairwise(clusters(throttled))]
    assert all(wait >= expected - 0.05 for wait, expected in zip(waits, [1, 2, 4, 8], strict=False)), waits


# --- after 10 rate-limit retries a person looks --------------------------------------------


@pytest.fixture
def throttled_shop(transactional_db, settings, live_server):
    shop = sandbox_shop_wire(settings, live_server)
    shop.customer_says("971501230088")
    sandbox.config_update(changes={"sync_error_rates": {str(THROTTLED): 1.0}})
    return shop


def reply(shop, retries: int) -> OutboundMessage:
    message = services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact("971501230088"),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content={"type": "text", "text": {"body": "Here is your receipt"}},
    )
    OutboundMessage.objects.filter(pk=message.pk).update(rate_limit_retries=retries)
    return message


def test_a_rate_limited_message_waits_for_its_numbers_cool_down(throttled_shop):
    message = reply(throttled_shop, retries=9)
    sending.outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    assert (message.status, message.rate_limit_retries, message.attempts) == (MessageStatus.QUEUED, 10, 0)
    assert timezone.now() < message.next_attempt_at <= timezone.now() + timedelta(seconds=1)
    held = ratelimit.number_take(phone_number=throttled_shop.number, count=1)
    assert held.granted == 0 and 0 < held.retry_after <= 1.0  # the whole number waits, not this message


def test_after_10_rate_limit_retries_a_message_needs_a_person_with_an_alert(throttled_shop):
    message = reply(throttled_shop, retries=10)
    sending.outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    assert (message.status, message.needs_person, message.error_code) == (MessageStatus.FAILED, True, THROTTLED)
    assert "after 10 retries" in message.error_detail
    alert = Alert.objects.get(kind="rate_limited", resolved_at__isnull=True)
    assert str(message.pk) in alert.detail


# --- inbound messages spend the send budget --------------------------------------------------


def test_customers_messages_take_the_numbers_tokens(transactional_db, settings, live_server):
    shop = sandbox_shop_wire(settings, live_server)
    shop.number.throughput_mps = 4  # a burst of 1, then one every 333 ms
    shop.number.save(update_fields=["throughput_mps"])
    for n in range(3):
        sandbox.customer_message_send(
            wa_id=f"97150123009{n}",
            name="Amal",
            phone_number_id=shop.number.graph_id,
            message={"type": "text", "text": {"body": "hi"}},
        )
    shop.deliver_webhooks()  # one batch of three customer messages: the number's next second

    held = ratelimit.number_take(phone_number=shop.number, count=1)
    assert held.granted == 0 and held.retry_after > 0.3
    quiet = PhoneNumber(graph_id="1" * 15, throughput_mps=4)  # no customer wrote to it
    assert ratelimit.number_take(phone_number=quiet, count=1).granted == 1
