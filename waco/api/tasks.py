from celery import shared_task

from waco.api.idempotency import idempotency_purge as purge
from waco.celery_config import QUEUE_MAINTENANCE


@shared_task(name="api.idempotency_purge", queue=QUEUE_MAINTENANCE)
def idempotency_purge() -> None:
    purge()
