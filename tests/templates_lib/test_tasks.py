"""The beat job and the thin tasks around the sync."""

import pytest
from django_celery_beat.models import PeriodicTask

from templates_lib import tasks
from templates_lib.apps import SYNC_EVERY_SECONDS
from tests.channels.factories import BusinessAccountFactory
from waco import periodic
from waco.celery_config import QUEUE_MAINTENANCE
from waco.cloud_api.errors import TransientError

pytestmark = pytest.mark.django_db


def test_the_template_sync_is_a_periodic_job_on_the_maintenance_queue():
    job = next(job for job in periodic.registered_jobs() if job.name == "templates_lib.sync_templates")
    assert (job.task, job.every_seconds) == ("templates_lib.sync_templates", SYNC_EVERY_SECONDS)
    assert job.queue == QUEUE_MAINTENANCE
    row = PeriodicTask.objects.get(name="templates_lib.sync_templates")
    assert (row.task, row.queue, row.interval.every, row.enabled) == (
        "templates_lib.sync_templates",
        QUEUE_MAINTENANCE,
        SYNC_EVERY_SECONDS,
        True,
    )


def test_the_tasks_are_registered_by_name_on_the_maintenance_queue():
    for task in (tasks.sync_templates, tasks.sync_templates_for_account):
        assert task.queue == QUEUE_MAINTENANCE
    assert tasks.sync_templates.name == "templates_lib.sync_templates"
    assert tasks.sync_templates_for_account.name == "templates_lib.sync_templates_for_account"


def test_the_beat_job_fans_out_one_sync_per_business_account(monkeypatch):
    first, second = BusinessAccountFactory(), BusinessAccountFactory()
    queued = []
    monkeypatch.setattr(tasks.sync_templates_for_account, "delay", queued.append)
    tasks.sync_templates()
    assert queued == [first.pk, second.pk]


def test_the_account_sync_passes_the_time_it_starts_and_retries_a_transient_error(monkeypatch):
    account = BusinessAccountFactory()
    calls = []

    def failing_sync(*, business_account, now):
        calls.append((business_account, now))
        raise TransientError("HTTP 503 without a Graph error body")

    monkeypatch.setattr(tasks.services, "templates_sync", failing_sync)
    retried = []
    monkeypatch.setattr(
        tasks.sync_templates_for_account, "retry", lambda exc, countdown: retried.append(countdown) or exc
    )
    with pytest.raises(TransientError):
        tasks.sync_templates_for_account(account.pk)
    [(synced, now)] = calls
    assert synced == account and now.tzinfo is not None
    assert retried == [tasks.SYNC_RETRY_SECONDS]


def test_a_sync_for_an_account_gone_meanwhile_does_nothing():
    tasks.sync_templates_for_account(999_999)
