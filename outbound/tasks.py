from celery import shared_task
from django.utils import timezone

from outbound import quality, read_receipts, sending, sweeps
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_SERVICE
from waco.channels.models import PhoneNumber


@shared_task(name="outbound.drain_outbox")
def drain_outbox(queue: str) -> None:
    """Send the due messages of one queue (published to that queue; safe to run many at once)."""
    sending.outbox_drain(queue=queue)


@shared_task(name="outbound.mark_read", queue=QUEUE_SERVICE, bind=True, max_retries=3)
def mark_read(self, phone_number_id: int, message_id: str, typing_indicator: bool = False) -> None:
    """Blue ticks (and typing) for a customer's message, through the number's rate limit."""
    number = PhoneNumber.objects.select_related("business_account").filter(pk=phone_number_id).first()
    if number is None:
        return
    wait = read_receipts.message_mark_read(phone_number=number, message_id=message_id, typing_indicator=typing_indicator)
    if wait is not None:
        raise self.retry(countdown=min(wait, 5))


@shared_task(name="outbound.sweep_outbox", queue=QUEUE_MAINTENANCE)
def sweep_outbox() -> None:
    """Beat: wake drains for due messages, resolve stale `sending` and `unknown` rows."""
    sweeps.outbox_sweep(now=timezone.now())


@shared_task(name="outbound.poll_number_health", queue=QUEUE_MAINTENANCE)
def poll_number_health() -> None:
    """Beat: quality rating, throughput and messaging limit of every number."""
    quality.numbers_poll_health(now=timezone.now())
