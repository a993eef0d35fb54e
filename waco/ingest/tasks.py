from celery import shared_task
from django.utils import timezone

from waco.celery_config import QUEUE_INGEST, QUEUE_MAINTENANCE
from waco.ingest import inbox


@shared_task(name="ingest.drain_inbox", queue=QUEUE_INGEST)
def drain_inbox() -> None:
    """Process the due deliveries of the inbox (safe to run many at once)."""
    inbox.inbox_drain()


@shared_task(name="ingest.drain_due_deliveries", queue=QUEUE_MAINTENANCE)
def drain_due_deliveries() -> None:
    """Beat: drain deliveries left behind by a lost message, a down broker or a killed worker."""
    inbox.deliveries_drain_due(now=timezone.now())
