from celery import shared_task
from django.utils import timezone

from waco.celery_config import QUEUE_INGEST, QUEUE_MAINTENANCE
from waco.ingest import services


@shared_task(name="ingest.process_delivery", queue=QUEUE_INGEST)
def process_delivery(delivery_id: int) -> None:
    """Apply a stored webhook delivery's events (idempotent)."""
    services.delivery_process(delivery_id=delivery_id)


@shared_task(name="ingest.redispatch_due_deliveries", queue=QUEUE_MAINTENANCE)
def redispatch_due_deliveries() -> None:
    """Beat: find deliveries whose task was lost or whose events failed, and dispatch them."""
    services.deliveries_redispatch_due(now=timezone.now())
