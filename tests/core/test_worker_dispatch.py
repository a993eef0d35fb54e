import os

import pytest
from django.conf import settings
from django.db import transaction

from tests.workers import wait_until
from waco.dispatch import send_task_or_log
from waco.health import WORKER_HEARTBEAT
from waco.models import Heartbeat
from waco.tasks import heartbeat


def test_tasks_are_never_run_eagerly():
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)


@pytest.mark.django_db
def test_nothing_is_published_before_commit(django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(heartbeat, "apply_async", lambda args: published.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        transaction.on_commit(lambda: send_task_or_log(heartbeat))
        assert published == []
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_publishes_nothing(monkeypatch):
    published = []
    monkeypatch.setattr(heartbeat, "apply_async", lambda args: published.append(args))
    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(lambda: send_task_or_log(heartbeat))
        raise RuntimeError("the caller's work failed")
    assert published == []


@pytest.mark.worker
def test_task_dispatched_on_commit_runs_in_a_real_worker_process(transactional_db, worker_log):
    with transaction.atomic():
        transaction.on_commit(lambda: send_task_or_log(heartbeat))

    beat = wait_until(
        lambda: Heartbeat.objects.filter(name=WORKER_HEARTBEAT).first(),
        message="the worker to record its heartbeat",
    )
    host, pid = beat.process.rsplit(":", 1)
    assert int(pid) != os.getpid()
    assert int(pid) != worker_log.proc.pid  # the prefork pool's child ran it
