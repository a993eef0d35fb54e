"""Mirroring variants to the Meta catalog through items_batch, outside any upsert transaction."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from catalog.models import MetaPush, Shop, Variant
from catalog.money import amount_format
from catalog.stock import availability_for
from waco.channels.models import BusinessAccount
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import GraphError

# Meta accepts up to 5000 requests per call; smaller batches keep one bad call cheap to retry.
BATCH_SIZE = 500


@dataclass
class PushResult:
    pushed: int = 0
    failed: int = 0


def _absolute(url: str) -> str:
    # Demo images are static paths; Meta needs a full URL.
    return f"{settings.WACO_PUBLIC_URL}{url}" if url.startswith("/") else url


def variant_meta_item(*, variant: Variant, available: int) -> dict:
    """The items_batch `data` for one variant, in the form Meta documents; `available` is
    catalog.stock's figure (what Waco can sell now, not the level on hand)."""
    product = variant.product
    image = variant.image_url or (product.image_urls[0] if product.image_urls else "")
    sold = variant.active and product.active
    data = {
        "id": variant.meta_retailer_id,
        "title": product.name,
        "description": product.description or product.name,
        "price": amount_format(variant.price_minor, variant.currency),
        "availability": "in stock" if sold and available > 0 else "out of stock",
        "inventory": available if sold else 0,
        "visibility": "published" if variant.active and product.active else "staging",
        "condition": "new",
        "item_group_id": product.external_id,
        "image_link": _absolute(image),
        "link": _absolute(image),
        "brand": product.business_account.name,
    }
    for key, meta_key in (("size", "size"), ("colour", "color"), ("color", "color")):
        if key in variant.attributes:
            data[meta_key] = variant.attributes[key]
    return data


def catalog_push_to_meta(*, business_account: BusinessAccount, now: datetime) -> PushResult:
    """Send every dirty variant of the account to its Meta catalog; mark them pushed on success.

    Raises GraphError after recording it, so the task can retry transient ones.
    """
    shop = Shop.objects.filter(business_account=business_account).exclude(meta_catalog_id="").first()
    result = PushResult()
    if shop is None:
        return result
    client = GraphClient(business_account.access_token)
    dirty = Variant.objects.filter(product__business_account=business_account, meta_dirty=True)
    while True:
        batch = list(dirty.select_related("product__business_account").order_by("pk")[:BATCH_SIZE])
        if not batch:
            return result
        push = MetaPush(business_account=business_account, attempted_at=now, variant_count=len(batch))
        available = availability_for(variant_ids=[v.pk for v in batch], now=now)
        requests = [
            {"method": "UPDATE", "data": variant_meta_item(variant=v, available=available.get(v.pk, 0))} for v in batch
        ]
        try:
            answer = client.catalog_batch(shop.meta_catalog_id, requests)
        except GraphError as exc:
            push.error = str(exc)
            push.save()
            raise
        push.succeeded, push.handles = True, answer.get("handles", [])
        push.item_errors = answer.get("validation_status", [])
        push.save()
        rejected = {e.get("retailer_id"): e for e in push.item_errors}
        for variant in batch:
            problem = rejected.get(variant.meta_retailer_id)
            message = "; ".join(e.get("message", "") for e in problem["errors"]) if problem else ""
            # Only if untouched since we read it: a newer change stays dirty for the next push.
            Variant.objects.filter(Q(pk=variant.pk) & Q(updated_at=variant.updated_at)).update(
                meta_dirty=False, meta_synced_at=now, meta_error=message
            )
            result.failed += bool(problem)
            result.pushed += not problem
