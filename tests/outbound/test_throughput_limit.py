"""Four workers on one number hold Meta's pace, counted where Meta would count: at the sandbox."""

from collections import Counter

import pytest
from django.utils import timezone

from outbound import services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from tests.support.sandbox_process import Outbox, sandbox_process  # noqa: F401  (a fixture)
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.workers import celery_worker, run_python, wait_until
from waco.contacts import services as contacts
from waco.sandbox import services as sandbox

pytestmark = pytest.mark.worker

RATE = 80
SECONDS = 30
CUSTOMERS = 500  # spread over customers so the pair limit never binds
SEND_DRAINS = (
    "import django; django.setup(); from outbound.tasks import drain_outbox\n"
    "for _ in range(4): drain_outbox.apply_async(args=['service'], queue='service')"
)


def sliding_second_peak(times: list[float]) -> int:
    times.sort()
    peak, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def test_four_workers_on_one_number_hold_80_per_second(
    transactional_db, settings, live_server, sandbox_process, private_redis, tmp_path, monkeypatch
):
    shop = sandbox_shop_wire(settings, live_server)
    number = shop.number
    # Lean: the sandbox keeps sends in memory, so it is not what limits the pace.
    sandbox.config_update(changes={"lean": True, "numbers": {number.graph_id: {"messages_per_second": 1000}}})
    monkeypatch.setattr(services, "outbox_ring", lambda *a, **k: None)  # the workers start together below
    now = timezone.now()
    for n in range(CUSTOMERS):
        contacts.window_touch(
            contact=contacts.contact_resolve(wa_id=f"97155{n:07d}"), phone_number=number, inbound_at=now
        )
    total = RATE * SECONDS + 400  # more than 30 s of work: the limiter, not the backlog, sets the pace
    for n in range(total):
        services.message_enqueue(
            phone_number=number,
            contact=contacts.contact_resolve(wa_id=f"97155{n % CUSTOMERS:07d}"),
            category=MessageCategory.SERVICE,
            purpose="reply",
            content={"type": "text", "text": {"body": f"#{n}"}},
        )
    env = {"REDIS_URL": private_redis.url, "WACO_GRAPH_API_BASE": f"{sandbox_process}/graph"}
    workers = [celery_worker(tmp_path / f"w{i}.log", name=f"w{i}", concurrency=1, env=env).start() for i in range(4)]
    try:
        run_python(SEND_DRAINS, env)
        sends = Outbox(sandbox_process)
        # A guard against a hang, not a pace: how fast a busy machine gets there is bench/outbound.py's figure.
        wait_until(
            lambda: len(sends.read()) >= RATE * SECONDS + 100,
            timeout=SECONDS * 6,
            interval=0.5,
            message="30 s of sends",
        )
    finally:
        for worker in workers:
            worker.stop()

    outbox = sends.read()
    times = sorted(item["accepted_at"] for item in outbox)
    first = times[0]
    window = [t for t in times if t < first + SECONDS]
    per_second = Counter(int(t - first) for t in window)
    average = len(window) / SECONDS
    print(f"average {average:.1f}/s, busiest sliding second {sliding_second_peak(list(window))}")
    assert average <= RATE + 4, per_second  # the ceiling; the floor (a speed) is bench/outbound.py's verdict
    assert sliding_second_peak(window) <= RATE * 1.1
    callbacks = [item["biz_opaque_callback_data"] for item in outbox]
    assert len(callbacks) == len(set(callbacks))  # no message sent twice
    assert not OutboundMessage.objects.filter(status=MessageStatus.FAILED).exists()
