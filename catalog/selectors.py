"""Live reads for the dialogue: never cached, so the thread never quotes a stale price."""

from dataclasses import dataclass

from django.db.models import QuerySet

from catalog.models import Category, Product, Variant
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


def products_in(*, category: Category, page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    """Active products of a category, `page` counted from 1."""
    start = (max(page, 1) - 1) * page_size
    rows = list(
        Product.objects.filter(category=category, active=True, variants__active=True)
        .distinct()
        .prefetch_related("variants")  # each row shows its lowest live price: one query, not one per product
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
