"""Live reads for the dialogue: never cached, so the thread never quotes a stale price or stock."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from catalog.models import Category, Product, Variant
from catalog.stock import with_availability
from waco.channels.models import BusinessAccount

# WhatsApp list messages hold at most 10 rows.
PAGE_SIZE = 10


@dataclass
class Page:
    items: list
    has_more: bool


def categories_for(*, business_account: BusinessAccount) -> QuerySet[Category]:
    """Categories with at least one active product, in shop order."""
    return (
        Category.objects.filter(business_account=business_account, products__active=True)
        .distinct()
        .order_by("position", "name")
    )


def variants_with_stock(*, now: datetime | None = None, holder: str | None = None) -> Prefetch:
    """Prefetch of a product's variants, each with `available` (catalog.stock), for pages showing stock."""
    variants = with_availability(Variant.objects.all(), now=now or timezone.now(), holder=holder)
    return Prefetch("variants", queryset=variants)


def product_with_stock(*, business_account: BusinessAccount, product_id, holder: str | None = None) -> Product | None:
    """One product of the shop with its variants' availability, or None."""
    return (
        Product.objects.filter(pk=product_id, business_account=business_account)
        .prefetch_related(variants_with_stock(holder=holder))
        .first()
    )


def products_in(*, category: Category, page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    """Active products of a category, `page` counted from 1, their variants with `available`."""
    start = (max(page, 1) - 1) * page_size
    rows = list(
        Product.objects.filter(category=category, active=True, variants__active=True)
        .distinct()
        .prefetch_related(variants_with_stock())  # lowest live price and stock: one query, not one per product
        .order_by("name", "pk")[start : start + page_size + 1]
    )
    return Page(items=rows[:page_size], has_more=len(rows) > page_size)


def variant_by_retailer_id(*, business_account: BusinessAccount, retailer_id: str) -> Variant | None:
    """The variant a catalog message (product_retailer_id) points at."""
    return (
        Variant.objects.select_related("product")
        .filter(product__business_account=business_account, meta_retailer_id=retailer_id)
        .first()
    )
