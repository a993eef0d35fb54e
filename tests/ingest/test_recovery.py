"""No delivery is lost to a lost broker message, a stopped broker or a killed worker.

These run real `celery worker` processes. The recovery always goes through
the registered periodic job, sent as beat would send it; a killed worker's
lease running out is simulated by making its delivery due.
"""

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.webhooks import signed_headers, text_message_body
from tests.workers import REPO, celery_worker, child_process_env, run_python, wait_until
from waco.celery_config import QUEUE_INGEST
from waco.contacts.models import Contact, ServiceWindow
from waco.ingest.models import Delivery, DeliveryStatus, InboxEvent

pytestmark = pytest.mark.worker

DRAIN_JOB = "ingest.drain_due_deliveries"
# Sends the registered job exactly as beat would: task, args and queue from its row.
SEND_REGISTERED_JOB = f"""
import django, json; django.setup()
from django_celery_beat.models import PeriodicTask
from waco.celery import app
job = PeriodicTask.objects.get(name={DRAIN_JOB!r})
app.send_task(job.task, args=json.loads(job.args), kwargs=json.loads(job.kwargs), queue=job.queue)
"""
# Posts a signed webhook through Django's full request handling in another process.
POST_WEBHOOK = """
import django, json, sys, time; django.setup()
from django.test import Client
body, headers = sys.argv[1].encode(), json.loads(sys.argv[2])
started = time.monotonic()
response = Client().post("/webhooks/whatsapp/", data=body, content_type="application/json", **headers)
print(json.dumps({"status": response.status_code, "seconds": time.monotonic() - started}))
"""


def the_lease_runs_out() -> None:
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def send_registered_job(env: dict | None = None) -> None:
    run_python(SEND_REGISTERED_JOB, env)


def delivery_done() -> bool:
    return Delivery.objects.filter(status=DeliveryStatus.DONE).exists()


def test_the_registered_beat_job_recovers_a_delivery_lost_by_the_broker(transactional_db, private_redis, tmp_path):
    number = PhoneNumberFactory()
    broker = {"REDIS_URL": private_redis.url}
    answer = json.loads(post_in_child(text_message_body(phone_number_id=number.graph_id), broker))
    assert answer["status"] == 200
    queue = redis.Redis.from_url(private_redis.url)
    assert queue.llen(QUEUE_INGEST) == 1
    queue.delete(QUEUE_INGEST)  # the broker loses the message before any worker sees it
    assert PeriodicTask.objects.get(name=DRAIN_JOB).enabled

    worker = celery_worker(tmp_path / "worker.log", name="recovering", env=broker).start()
    try:
        send_registered_job(broker)
        wait_until(delivery_done, message="the recovered delivery to be processed")
    finally:
        worker.stop()
    assert InboxEvent.objects.count() == 1
    assert ServiceWindow.objects.count() == 1


def test_with_the_broker_stopped_the_webhook_answers_200_and_applies_once_it_is_back(
    transactional_db, private_redis, tmp_path
):
    number = PhoneNumberFactory()
    broker = {"REDIS_URL": private_redis.url}
    worker = celery_worker(tmp_path / "worker.log", name="brokerless", env=broker).start()
    try:
        private_redis.stop()
        body = text_message_body(phone_number_id=number.graph_id)
        answer = json.loads(post_in_child(body, broker))
        assert answer["status"] == 200  # how long a down broker costs is bench/ingest.py's figure (c)
        assert Delivery.objects.get().status == DeliveryStatus.PENDING

        private_redis.start()
        send_registered_job(broker)

        wait_until(delivery_done, timeout=60, message="the delivery to be applied after the broker is back")
        assert InboxEvent.objects.count() == 1
        assert ServiceWindow.objects.count() == 1
    finally:
        print(worker.log_tail())
        worker.stop()


def post_in_child(body: bytes, env: dict) -> str:
    """POST a signed webhook from a web process of its own, configured by `env`."""
    result = subprocess.run(
        [sys.executable, "-c", POST_WEBHOOK, body.decode(), json.dumps(signed_headers(body))],
        cwd=REPO,
        env=child_process_env() | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def blocked_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_delivery_loses_nothing(transactional_db, private_redis, tmp_path):
    number = PhoneNumberFactory()
    contact = ContactFactory(wa_id="971509998877")
    broker = {"REDIS_URL": private_redis.url}
    first = celery_worker(tmp_path / "first.log", name="doomed", env=broker).start()
    locked, release = threading.Event(), threading.Event()

    def hold_contact_lock():
        # The worker's contacts handler locks this row: it blocks mid-event, inside its transaction.
        with transaction.atomic():
            Contact.objects.select_for_update().get(pk=contact.pk)
            locked.set()
            release.wait(60)
        connection.close()

    holder = threading.Thread(target=hold_contact_lock)
    holder.start()
    try:
        locked.wait(10)
        answer = json.loads(
            post_in_child(text_message_body(phone_number_id=number.graph_id, wa_id=contact.wa_id), broker)
        )
        assert answer["status"] == 200
        wait_until(lambda: blocked_backends() >= 1, message="the worker to block mid-delivery")
        first.kill()
    finally:
        release.set()
        holder.join(10)
    time.sleep(0.5)  # PostgreSQL rolls the killed worker's transaction back
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert not InboxEvent.objects.exists()
    assert not ServiceWindow.objects.exists()

    second = celery_worker(tmp_path / "second.log", name="survivor", env=broker).start()
    try:
        the_lease_runs_out()
        send_registered_job(broker)
        wait_until(delivery_done, timeout=60, message="the delivery to be recovered")
    finally:
        second.stop()
    assert InboxEvent.objects.count() == 1
    assert ServiceWindow.objects.get().contact_id == contact.pk
