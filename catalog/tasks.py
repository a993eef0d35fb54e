"""Thin Celery entry points: load the row, call the service."""

import logging

from celery import shared_task
from django.utils import timezone

from catalog import feeds, push
from catalog.models import FeedSource, Shop, Variant
from waco.celery_config import QUEUE_MAINTENANCE
from waco.channels.models import BusinessAccount
from waco.cloud_api.errors import GraphError, RateLimitError, TransientError

logger = logging.getLogger(__name__)

# Backoff 30 s, 60 s, 120 s...; beat tries the feed again next period anyway.
RETRIES = 5
BACKOFF_SECONDS = 30


@shared_task(name="catalog.sync_feeds", queue=QUEUE_MAINTENANCE)
def sync_feeds() -> None:
    """Beat: one task per feed that is due."""
    for feed in feeds.feeds_due(now=timezone.now()):
        sync_feed.delay(feed.pk)


@shared_task(name="catalog.sync_feed", queue=QUEUE_MAINTENANCE, bind=True, max_retries=RETRIES)
def sync_feed(self, feed_id: int) -> None:
    """Fetch and upsert one feed; retried with exponential backoff on transient failures."""
    feed = FeedSource.objects.select_related("business_account").filter(pk=feed_id).first()
    if feed is None:
        return
    try:
        feeds.feed_sync(feed=feed, now=timezone.now())
    except feeds.FeedTransientError as exc:
        raise self.retry(exc=exc, countdown=BACKOFF_SECONDS * 2**self.request.retries) from exc
    except feeds.FeedError as exc:  # recorded on a failed run; retrying cannot help
        logger.warning("catalog feed %s failed: %s", feed.url, str(exc))
    push_to_meta.delay(feed.business_account_id)


@shared_task(name="catalog.push_dirty", queue=QUEUE_MAINTENANCE)
def push_dirty() -> None:
    """Beat: push every account with changed variants and a Meta catalog."""
    accounts = Shop.objects.exclude(meta_catalog_id="").values_list("business_account_id", flat=True)
    dirty = Variant.objects.filter(meta_dirty=True, product__business_account_id__in=accounts)
    for account_id in dirty.values_list("product__business_account_id", flat=True).distinct():
        push_to_meta.delay(account_id)


@shared_task(name="catalog.push_to_meta", queue=QUEUE_MAINTENANCE, bind=True, max_retries=RETRIES)
def push_to_meta(self, business_account_id: int) -> None:
    """Push one account's changed variants to its Meta catalog."""
    account = BusinessAccount.objects.filter(pk=business_account_id).first()
    if account is None:
        return
    try:
        push.catalog_push_to_meta(business_account=account, now=timezone.now())
    except (RateLimitError, TransientError) as exc:
        raise self.retry(exc=exc, countdown=BACKOFF_SECONDS * 2**self.request.retries) from exc
    except GraphError as exc:  # recorded on the MetaPush row
        logger.warning("catalog push of %s failed: %s", account, str(exc))
