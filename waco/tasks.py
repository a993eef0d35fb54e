from celery import shared_task

from waco import health


@shared_task(name="waco.tasks.heartbeat")
def heartbeat() -> None:
    """Beat sends this every 30 s; the health endpoint reads how long ago it ran."""
    health.heartbeat_record(name=health.WORKER_HEARTBEAT)
