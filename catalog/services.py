"""The ways catalog data gets in, all through catalog.upsert's one write path: feeds and imports
(catalog_upsert, flat rows), the API (products_put, product_archive) and stock levels.

A feed item is one variant row, flat so CSV and JSON feeds look alike:
  {"sku", "product_id", "name", "category", "price" ("12.50") or "price_minor" (1250),
   "currency", "stock", "stock_as_of"? (ISO 8601), "description"?, "attributes"? {..},
   "image_url"?, "active"?}
"stock" is the level on hand at "stock_as_of" (the fetch or import time when absent). A
level not later than the one Waco has is ignored; sales after it are subtracted when read
(catalog.stock).
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog import stock
from catalog.models import Product, SyncRun, SyncStatus, Variant
from catalog.money import amount_parse, currency_is_valid
from catalog.upsert import CatalogRows, ProductSpec, VariantSpec, product_apply
from waco.channels.models import BusinessAccount
from waco.dispatch import send_task_or_log


class ItemError(ValueError):
    """One feed item is unusable; the message is shown on the run."""


@dataclass
class UpsertResult:
    run: SyncRun
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)


def _text(item: dict, key: str, *, required: bool = True) -> str:
    value = str(item.get(key) or "").strip()
    if required and not value:
        raise ItemError(f"{key} is required")
    return value


def _clean(item: dict) -> dict:
    if not isinstance(item, dict):
        raise ItemError("item is not an object")
    currency = _text(item, "currency").upper()
    if not currency_is_valid(currency):
        raise ItemError(f"currency {currency!r} is not a supported ISO 4217 code")
    if item.get("price_minor") not in (None, ""):
        try:
            price_minor = int(str(item["price_minor"]))
        except ValueError:
            raise ItemError(f"price_minor {item['price_minor']!r} is not a whole number") from None
    else:
        try:
            price_minor = amount_parse(_text(item, "price"), currency)
        except ValueError as exc:
            raise ItemError(str(exc)) from None
    try:
        stock = int(str(item.get("stock", 0) or 0))
    except ValueError:
        raise ItemError(f"stock {item.get('stock')!r} is not a whole number") from None
    if price_minor < 0 or stock < 0:
        raise ItemError("price and stock cannot be negative")
    as_of = None
    if item.get("stock_as_of") not in (None, ""):
        try:
            as_of = parse_datetime(str(item["stock_as_of"]))
        except ValueError:
            as_of = None
        if as_of is None or timezone.is_naive(as_of):
            raise ItemError(f"stock_as_of {item['stock_as_of']!r} is not an ISO 8601 time with a UTC offset")
    attributes = item.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ItemError("attributes must be an object")
    active = item.get("active", True)
    if isinstance(active, str):
        active = active.strip().lower() not in ("0", "false", "no", "n", "")
    sku = _text(item, "sku")
    return {
        "sku": sku,
        "product_id": _text(item, "product_id", required=False) or sku,
        "name": _text(item, "name"),
        "category": _text(item, "category"),
        "description": _text(item, "description", required=False),
        "image_url": _text(item, "image_url", required=False),
        "attributes": {str(k): str(v) for k, v in attributes.items()},
        "price_minor": price_minor,
        "currency": currency,
        "on_hand": stock,
        "on_hand_as_of": as_of,
        "active": bool(active),
    }


def _feed_spec(clean: dict) -> ProductSpec:
    """A flat feed item is a product with one variant; what the row leaves empty, the product keeps."""
    variant = VariantSpec(
        sku=clean["sku"],
        attributes=clean["attributes"],
        price_minor=clean["price_minor"],
        currency=clean["currency"],
        image_url=clean["image_url"],
        active=clean["active"],
        on_hand=clean["on_hand"],
        on_hand_as_of=clean["on_hand_as_of"],
    )
    return ProductSpec(
        external_id=clean["product_id"],
        name=clean["name"],
        category=clean["category"],
        description=clean["description"] or None,
        image_urls=[clean["image_url"]] if clean["image_url"] else None,
        variants=[variant],
    )


def _feed_item_apply(business_account: BusinessAccount, clean: dict, now: datetime, rows: CatalogRows) -> str:
    """Write one cleaned feed row; answers "created", "updated" or "unchanged" for its variant."""
    outcome = product_apply(
        business_account=business_account, spec=_feed_spec(clean), now=now, archive_missing=False, rows=rows
    )
    variant = outcome.variants[clean["sku"]]
    if variant == "created":
        return "created"
    return "updated" if (variant == "updated" or outcome.changed or outcome.created) else "unchanged"


def _deactivate_missing(business_account: BusinessAccount, seen_skus: set[str]) -> int:
    """A variant gone from a full feed is hidden, never deleted: orders still point at it."""
    with transaction.atomic():
        gone = Variant.objects.filter(business_account=business_account, active=True)
        gone = gone.exclude(sku__in=seen_skus)
        count = gone.update(active=False, meta_dirty=True, updated_at=timezone.now())
        Product.objects.filter(business_account=business_account, active=True).exclude(variants__active=True).update(
            active=False, updated_at=timezone.now()
        )
    return count


def catalog_upsert(
    *,
    business_account: BusinessAccount,
    items: list[dict],
    source: str,
    now: datetime,
    full: bool = True,
    progress=None,
) -> UpsertResult:
    """Create or update categories, products and variants by SKU; record the run.

    Each item is written in its own savepoint, so a bad one is reported and the
    rest still apply. With `full`, variants missing from `items` are deactivated.
    `progress(done, total)` is called after each item (the import command's bar).
    """
    run = SyncRun.objects.create(business_account=business_account, source=source, started_at=now)
    result = UpsertResult(run=run)
    seen: set[str] = set()
    rows = CatalogRows()  # categories remembered; products and variants read per row
    for index, item in enumerate(items):
        sku = str(item.get("sku") or "").strip() if isinstance(item, dict) else ""
        seen.add(sku)  # a bad row for a known SKU must not deactivate it
        try:
            with transaction.atomic():
                outcome = _feed_item_apply(business_account, _clean(item), now, rows)
        except ItemError as exc:
            result.errors.append({"index": index, "sku": sku, "error": str(exc)})
        except IntegrityError:  # a concurrent run wrote the same row; the next run settles it
            result.errors.append({"index": index, "sku": sku, "error": "written concurrently, try again"})
        else:
            setattr(result, outcome, getattr(result, outcome) + 1)
        if progress is not None:
            progress(index + 1, len(items))
    if full:
        result.deactivated = _deactivate_missing(business_account, seen)
    return _run_finish(result)


def _run_finish(result: UpsertResult) -> UpsertResult:
    run = result.run
    run.created, run.updated = result.created, result.updated
    run.deactivated, run.unchanged = result.deactivated, result.unchanged
    run.errors, run.error_count = result.errors, len(result.errors)
    run.status = SyncStatus.PARTIAL if result.errors else SyncStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    return result


def sync_run_fail(*, business_account: BusinessAccount, source: str, now: datetime, error: str) -> SyncRun:
    """Record a run that applied nothing (the feed could not be fetched or parsed)."""
    return SyncRun.objects.create(
        business_account=business_account,
        source=source,
        started_at=now,
        finished_at=timezone.now(),
        status=SyncStatus.FAILED,
        errors=[{"index": None, "sku": "", "error": error}],
        error_count=1,
    )


def _meta_push_soon(account_ids: set[int]) -> None:
    """After the commit, push the accounts' changed variants to Meta (as a feed sync does)."""
    from catalog.tasks import push_to_meta  # cycle: catalog.tasks imports catalog.feeds, which imports this module

    for account_id in sorted(account_ids):
        transaction.on_commit(partial(send_task_or_log, push_to_meta, account_id))


@dataclass
class PutResult:
    """One product of an API write: its outcome ("created", "updated", "unchanged" or "failed")."""

    external_id: str
    result: str
    product: Product | None = None
    error: str = ""


@transaction.atomic
def products_put(*, items: list[tuple[BusinessAccount, ProductSpec]], now: datetime) -> list[PutResult]:
    """Replace each product with its variants (missing variants archived), each in its own savepoint
    so one failure spoils nothing else; answers one result per item, in order."""
    results, changed_accounts, rows = [], set(), CatalogRows()
    rows.preload(items)
    for business_account, spec in items:
        try:
            with transaction.atomic():
                outcome = product_apply(
                    business_account=business_account, spec=spec, now=now, archive_missing=True, rows=rows
                )
        except IntegrityError:  # a concurrent write created the same product or SKU; a retry settles it
            rows.forget()
            results.append(PutResult(spec.external_id, "failed", error="written concurrently, try again"))
            continue
        results.append(PutResult(spec.external_id, outcome.result, product=outcome.product))
        if outcome.result != "unchanged":
            changed_accounts.add(business_account.pk)
    _meta_push_soon(changed_accounts)
    return results


@transaction.atomic
def product_archive(*, product: Product, now: datetime) -> bool:
    """Hide the product and its variants from the thread and Meta, never deleting them (order lines
    point at them); answers whether anything was live."""
    variants = product.variants.filter(active=True).update(active=False, meta_dirty=True, updated_at=now)
    was_active = Product.objects.filter(pk=product.pk, active=True).update(active=False, updated_at=now)
    if variants or was_active:
        _meta_push_soon({product.business_account_id})
    return bool(variants or was_active)


def stock_levels_push(*, levels: list[stock.StockLevel], now: datetime) -> list[str]:
    """Apply the system of record's levels (catalog.stock) and push what moved to Meta."""
    with transaction.atomic():
        outcomes = stock.stock_levels_apply(levels=levels, now=now)
        moved = {
            level.business_account_id
            for level, outcome in zip(levels, outcomes, strict=True)
            if outcome == stock.APPLIED
        }
        _meta_push_soon(moved)
    return outcomes
