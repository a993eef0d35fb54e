import pytest
from django_celery_beat.models import PeriodicTask

from waco import periodic


@pytest.mark.django_db
def test_migrate_registers_the_periodic_jobs_declared_in_code():
    task = PeriodicTask.objects.get(name="waco.heartbeat")
    assert task.task == "waco.tasks.heartbeat"
    assert task.interval.every == 30
    assert task.queue == "maintenance"
    assert task.enabled


@pytest.mark.django_db
def test_sync_restores_a_job_edited_by_hand_and_leaves_others_alone():
    PeriodicTask.objects.filter(name="waco.heartbeat").update(enabled=False, queue="service")
    by_hand = PeriodicTask.objects.create(
        name="staff job", task="waco.tasks.heartbeat", interval=PeriodicTask.objects.first().interval
    )
    periodic.sync_periodic_tasks()
    task = PeriodicTask.objects.get(name="waco.heartbeat")
    assert task.enabled and task.queue == "maintenance"
    assert PeriodicTask.objects.filter(pk=by_hand.pk).exists()


@pytest.mark.django_db
def test_sync_removes_a_job_no_longer_declared(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    periodic.sync_periodic_tasks()
    assert not PeriodicTask.objects.filter(name="waco.heartbeat").exists()
