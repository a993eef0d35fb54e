from celery import shared_task
from django.utils import timezone

from conversations import media
from conversations.expiry import threads_expire_windows
from conversations.recovery import cart_recovery_send
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_SERVICE


# Retries are countdowns, not rows: InboundMedia has no next-attempt time, and the
# backoff is capped at 5 minutes, far under the broker's 1 h visibility timeout.
# Our own attempts counter decides when to stop, so Celery's max_retries is off.
# A 100 MB document may take longer than the default 60 s: a longer limit here,
# still shorter than media.LEASE_GRACE so beat never doubles a running attempt.
@shared_task(
    name="conversations.download_media",
    queue=QUEUE_SERVICE,
    bind=True,
    max_retries=None,
    soft_time_limit=150,
    time_limit=180,
)
def download_media(self, media_id_pk: int) -> None:
    """Download one customer's media (a fresh URL each try); retry after the backoff it asks for."""
    result = media.media_download(media_id_pk=media_id_pk)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in.total_seconds())


@shared_task(name="conversations.redispatch_lost_media", queue=QUEUE_MAINTENANCE)
def redispatch_lost_media() -> None:
    """Beat: publish again the media downloads whose task was lost (broker down, worker killed)."""
    media.media_redispatch_lost(now=timezone.now())


@shared_task(name="conversations.send_cart_recovery", queue=QUEUE_MAINTENANCE)
def send_cart_recovery() -> None:
    """Beat: one recovery message per cart left by a customer who opted in to offers."""
    cart_recovery_send(now=timezone.now())


@shared_task(name="conversations.expire_windows", queue=QUEUE_MAINTENANCE)
def expire_windows() -> None:
    """Beat: threads whose service window closed leave the cart states (the cart is kept)."""
    threads_expire_windows(now=timezone.now())
