from celery import shared_task
from django.utils import timezone

from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_WEBHOOKS
from waco.events import delivery


@shared_task(name="events.deliver_events", queue=QUEUE_WEBHOOKS)
def deliver_events() -> None:
    """Post the due deliveries (safe to run many at once: each claims its own rows)."""
    delivery.deliveries_drain()


@shared_task(name="events.sweep_deliveries", queue=QUEUE_MAINTENANCE)
def sweep_deliveries() -> None:
    """Beat: deliveries a lost message, a down broker or a killed worker left behind."""
    delivery.deliveries_sweep(now=timezone.now())
