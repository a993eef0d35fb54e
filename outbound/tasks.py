from celery import shared_task
from django.utils import timezone

from outbound import quality, sending, sweeps
from waco.celery_config import QUEUE_MAINTENANCE


@shared_task(name="outbound.drain_outbox")
def drain_outbox(queue: str) -> None:
    """Send the due messages of one queue (published to that queue; safe to run many at once)."""
    sending.outbox_drain(queue=queue)


@shared_task(name="outbound.sweep_outbox", queue=QUEUE_MAINTENANCE)
def sweep_outbox() -> None:
    """Beat: wake drains for due messages, resolve stale `sending` and `unknown` rows."""
    sweeps.outbox_sweep(now=timezone.now())


@shared_task(name="outbound.poll_number_health", queue=QUEUE_MAINTENANCE)
def poll_number_health() -> None:
    """Beat: quality rating, throughput and messaging limit of every number."""
    quality.numbers_poll_health(now=timezone.now())
