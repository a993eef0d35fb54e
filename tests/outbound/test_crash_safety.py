"""A worker killed while Meta holds the request never leads to a second send."""

import pytest
from django.utils import timezone

from outbound import services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.workers import celery_worker, run_python, wait_until
from waco.sandbox import services as sandbox

pytestmark = pytest.mark.worker

CUSTOMER = "971501230002"
SEND_DRAIN = "import django; django.setup(); from outbound.tasks import drain_outbox; drain_outbox.apply_async(args=['service'], queue='service')"
SEND_SWEEP = """
import django, json; django.setup()
from django_celery_beat.models import PeriodicTask
from waco.celery import app
job = PeriodicTask.objects.get(name="outbound.sweep_outbox")
app.send_task(job.task, args=json.loads(job.args), kwargs=json.loads(job.kwargs), queue=job.queue)
"""


def sends_to_sandbox(message) -> int:
    bodies = sandbox.outbox_list(config=sandbox.config_get(), to=CUSTOMER)
    return sum(1 for body in bodies if body.get("biz_opaque_callback_data") == str(message.pk))


def test_a_worker_killed_mid_send_never_sends_twice(
    transactional_db, settings, live_server, private_redis, tmp_path, monkeypatch
):
    shop = sandbox_shop_wire(settings, live_server)
    shop.customer_says(CUSTOMER)
    monkeypatch.setattr(services, "outbox_ring", lambda *a, **k: None)  # the test sends the drain itself
    message = services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content={"type": "text", "text": {"body": "your order is packed"}},
    )
    sandbox.config_update(changes={"latency_ms": 3000})
    env = {
        "REDIS_URL": private_redis.url,
        "WACO_GRAPH_API_BASE": settings.WACO_GRAPH_API_BASE,
        "WACO_BROKER_VISIBILITY_TIMEOUT": "2",  # the killed worker's drain message comes back fast
    }
    doomed = celery_worker(tmp_path / "doomed.log", name="doomed", env=env).start()
    run_python(SEND_DRAIN, env)
    wait_until(
        lambda: OutboundMessage.objects.get(pk=message.pk).status == MessageStatus.SENDING,
        message="the worker to claim the message",
    )
    doomed.kill()  # while the sandbox holds the request

    wait_until(lambda: sends_to_sandbox(message) == 1, timeout=20, message="the sandbox to record the first send")
    survivor = celery_worker(tmp_path / "survivor.log", name="survivor", env=env).start()
    try:
        wait_until(
            lambda: "drain_outbox" in survivor.log_tail() and "succeeded" in survivor.log_tail(),
            timeout=30,
            message="the redelivered drain to run",
        )
        assert OutboundMessage.objects.get(pk=message.pk).status == MessageStatus.SENDING  # not resent

        OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())  # the lease runs out
        run_python(SEND_SWEEP, env)
        wait_until(
            lambda: OutboundMessage.objects.get(pk=message.pk).status == MessageStatus.UNKNOWN,
            timeout=30,
            message="the sweep to mark the outcome unknown",
        )
        run_python(SEND_DRAIN, env)
    finally:
        survivor.stop()
    assert sends_to_sandbox(message) == 1

    sandbox.config_update(changes={"latency_ms": 0})
    shop.deliver_webhooks()  # the sandbox's statuses name our id: the unknown is resolved
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.wamid
