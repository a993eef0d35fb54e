from celery import shared_task
from django.utils import timezone

from outbound import quality, read_receipts, sending, sweeps
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_SERVICE
from waco.channels.models import PhoneNumber


@shared_task(name="outbound.drain_outbox")
def drain_outbox(queue: str) -> None:
    """Send the due messages of one queue (published to that queue; safe to run many at once)."""
    sending.outbox_drain(queue=queue)


@shared_task(name="outbound.mark_read_many", queue=QUEUE_SERVICE, bind=True, max_retries=5)
def mark_read_many(self, phone_number_id: int, message_ids: list[str]) -> None:
    """Blue ticks for a batch's customer messages; what the limiter holds back waits a moment."""
    number = PhoneNumber.objects.select_related("business_account").filter(pk=phone_number_id).first()
    if number is None:
        return
    left = read_receipts.messages_mark_read(phone_number=number, message_ids=message_ids)
    if left:
        raise self.retry(args=(phone_number_id, left), countdown=1)


@shared_task(name="outbound.sweep_outbox", queue=QUEUE_MAINTENANCE)
def sweep_outbox() -> None:
    """Beat: wake drains for due messages, resolve stale `sending` and `unknown` rows."""
    sweeps.outbox_sweep(now=timezone.now())


@shared_task(name="outbound.poll_number_health", queue=QUEUE_MAINTENANCE)
def poll_number_health() -> None:
    """Beat: quality rating, throughput and messaging limit of every number."""
    quality.numbers_poll_health(now=timezone.now())
