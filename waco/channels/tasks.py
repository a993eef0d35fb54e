from celery import shared_task
from django.utils import timezone

from waco.celery_config import QUEUE_MAINTENANCE
from waco.channels import token_health


@shared_task(name="channels.check_tokens", queue=QUEUE_MAINTENANCE)
def check_tokens() -> None:
    """Beat: every account's token read back through debug_token (no app configured: nothing)."""
    token_health.tokens_check(now=timezone.now())
