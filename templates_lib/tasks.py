"""Thin Celery entry points: load the row, call the service."""

import logging

from celery import shared_task
from django.utils import timezone

from templates_lib import services
from waco.celery_config import QUEUE_MAINTENANCE
from waco.channels.models import BusinessAccount
from waco.cloud_api.errors import GraphError, RateLimitError, TransientError

logger = logging.getLogger(__name__)

# A failed list is retried a few times, a minute apart; beat tries again next period anyway.
SYNC_RETRIES = 3
SYNC_RETRY_SECONDS = 60


@shared_task(name="templates_lib.sync_templates", queue=QUEUE_MAINTENANCE)
def sync_templates() -> None:
    """Beat: sync the template list of every business account, one task each."""
    for account_id in BusinessAccount.objects.order_by("pk").values_list("pk", flat=True):
        sync_templates_for_account.delay(account_id)


@shared_task(
    name="templates_lib.sync_templates_for_account",
    queue=QUEUE_MAINTENANCE,
    bind=True,
    max_retries=SYNC_RETRIES,
)
def sync_templates_for_account(self, business_account_id: int) -> None:
    """Sync one account's templates from the Graph API; retried on rate and transient errors."""
    account = BusinessAccount.objects.filter(pk=business_account_id).first()
    if account is None:
        return
    # Taken before the list is read: the list is Meta's word at this time or later,
    # so no event newer than `now` is overridden by it.
    now = timezone.now()
    try:
        services.templates_sync(business_account=account, now=now)
    except (RateLimitError, TransientError) as exc:
        raise self.retry(exc=exc, countdown=SYNC_RETRY_SECONDS) from exc
    except GraphError as exc:  # recorded on the run row; retrying cannot help (auth, request)
        # Logged as text: a record holding the exception would keep its traceback, and
        # with it the HTTP response's socket, alive for as long as a handler keeps records.
        logger.warning("template sync of %s failed: %s", account, str(exc))
