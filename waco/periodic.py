"""Periodic jobs are declared in code and written to django-celery-beat's tables.

Apps call `register()` in their AppConfig.ready(); after every `migrate` the
rows are brought in line with the code (created, updated, and removed when a
job is gone), so nobody ever adds a schedule by hand in the admin.
"""

from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from waco.celery_config import QUEUE_MAINTENANCE

# Rows we own carry this description, so jobs staff added by hand are left alone.
MANAGED_DESCRIPTION = "Managed by Waco (waco.periodic); edits are overwritten on migrate."


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int
    queue: str = QUEUE_MAINTENANCE


_jobs: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> None:
    _jobs[job.name] = job


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


@transaction.atomic
def sync_periodic_tasks() -> None:
    for job in registered_jobs():
        schedule, _ = IntervalSchedule.objects.get_or_create(every=job.every_seconds, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.update_or_create(
            name=job.name,
            defaults={
                "task": job.task,
                "interval": schedule,
                "queue": job.queue,
                "enabled": True,
                "description": MANAGED_DESCRIPTION,
            },
        )
    PeriodicTask.objects.filter(description=MANAGED_DESCRIPTION).exclude(name__in=_jobs).delete()


def sync_periodic_tasks_after_migrate(**kwargs) -> None:
    sync_periodic_tasks()
