"""The one way catalog data gets in: an idempotent upsert used by feeds, imports and pushes.

An item is one variant row, flat so CSV and JSON feeds look alike:
  {"sku", "product_id", "name", "category", "price" ("12.50") or "price_minor" (1250),
   "currency", "stock", "stock_as_of"? (ISO 8601), "description"?, "attributes"? {..},
   "image_url"?, "active"?}
"stock" is the level on hand at "stock_as_of" (the fetch or import time when absent). A
level older than the one Waco has is ignored; sales after it are subtracted when read
(catalog.stock).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from catalog.models import Category, Product, StockReservation, SyncRun, SyncStatus, Variant
from catalog.money import amount_parse, currency_is_valid
from waco.channels.models import BusinessAccount

# Fields Meta shows; a change to any of them queues the variant for the next push.
VARIANT_FIELDS = ("attributes", "price_minor", "currency", "on_hand", "active", "image_url")
PRODUCT_FIELDS = ("category_id", "name", "description", "image_urls")


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


def _assign(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _category(business_account: BusinessAccount, name: str) -> Category:
    slug = slugify(name)[:200] or "uncategorised"
    category = Category.objects.filter(business_account=business_account, slug=slug).first()
    if category is None:
        position = Category.objects.filter(business_account=business_account).count()
        category = Category.objects.create(business_account=business_account, slug=slug, name=name, position=position)
    elif category.name != name:
        category.name = name
        category.save(update_fields=["name"])
    return category


def _level(variant: Variant, *, on_hand: int, as_of: datetime) -> tuple[dict, bool]:
    """The stock fields to write for a level reported at `as_of`, and whether availability moved
    without on_hand changing (sales the new as_of now counts)."""
    if as_of < variant.on_hand_as_of:  # older than the level we hold: keep ours
        return {}, False
    sold_between = StockReservation.objects.filter(
        variant=variant, consumed_at__gt=variant.on_hand_as_of, consumed_at__lte=as_of
    ).exists()
    return {"on_hand": on_hand, "on_hand_as_of": as_of}, sold_between


def _apply(business_account: BusinessAccount, clean: dict, now: datetime) -> str:
    """Write one cleaned item; answers "created", "updated" or "unchanged"."""
    category = _category(business_account, clean["category"])
    product, product_created = Product.objects.get_or_create(
        business_account=business_account,
        external_id=clean["product_id"],
        defaults={"category": category, "name": clean["name"]},
    )
    images = [clean["image_url"]] if clean["image_url"] else product.image_urls
    product_changed = _assign(
        product,
        {
            "category_id": category.pk,
            "name": clean["name"],
            "description": clean["description"] or product.description,
            "image_urls": images,
        },
    )
    if clean["active"] and not product.active:
        product.active = product_changed = True
    if product_changed:
        product.save()
        # Title, description and images are on every Meta item of the product.
        product.variants.update(meta_dirty=True, updated_at=timezone.now())
    variant = Variant.objects.select_for_update().filter(sku=clean["sku"]).first()
    values = {k: clean[k] for k in VARIANT_FIELDS if k != "on_hand"}
    as_of = clean["on_hand_as_of"] or now
    if variant is None:
        Variant.objects.create(
            product=product, sku=clean["sku"], on_hand=clean["on_hand"], on_hand_as_of=as_of, **values
        )
        return "created"
    if variant.product.business_account_id != business_account.pk:
        raise ItemError(f"SKU {clean['sku']} belongs to another shop")
    level, sold_between = _level(variant, on_hand=clean["on_hand"], as_of=as_of)
    level_as_of = level.pop("on_hand_as_of", None)
    changed = _assign(variant, {"product_id": product.pk, **values, **level})
    if level_as_of is not None:
        variant.on_hand_as_of = level_as_of
    if changed or sold_between:
        variant.meta_dirty = True
        variant.save()
    elif level_as_of is not None:  # the same level confirmed later: not a change, but its as_of is kept
        Variant.objects.filter(pk=variant.pk).update(on_hand_as_of=level_as_of)
    return "updated" if (changed or sold_between or product_changed or product_created) else "unchanged"


def _deactivate_missing(business_account: BusinessAccount, seen_skus: set[str]) -> int:
    """A variant gone from a full feed is hidden, never deleted: orders still point at it."""
    with transaction.atomic():
        gone = Variant.objects.filter(product__business_account=business_account, active=True)
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
    for index, item in enumerate(items):
        sku = str(item.get("sku") or "").strip() if isinstance(item, dict) else ""
        seen.add(sku)  # a bad row for a known SKU must not deactivate it
        try:
            with transaction.atomic():
                outcome = _apply(business_account, _clean(item), now)
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
