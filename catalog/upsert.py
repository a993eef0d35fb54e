"""The one write path of catalog data: a product and its variants, as feeds, imports, the demo
seed and the API describe them, written by `product_apply` (catalog.services drives it).

Nothing is saved when nothing changed (no updated_at moves, nothing queued for Meta); a change to
anything Meta shows marks the variant for the next push. SKUs are unique per business account.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.text import slugify

from catalog import stock
from catalog.models import Category, Product, Variant
from waco.channels.models import BusinessAccount

# Fields Meta shows; a change to any of them queues the variant for the next push.
VARIANT_FIELDS = ("attributes", "price_minor", "currency", "active", "image_url")
# The category of a product that names none.
UNCATEGORISED = "Uncategorised"


def _assign(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _category(business_account: BusinessAccount, name: str, known: dict[tuple[int, str], Category]) -> Category:
    """The account's category of that name (created when new); `known` caches them for one upsert."""
    name = name or UNCATEGORISED
    # Unicode kept: "عبايات" and "Abayas" are two categories, not one "uncategorised" renamed by each.
    slug = slugify(name, allow_unicode=True)[:200] or "uncategorised"
    category = known.get((business_account.pk, slug))
    if category is None:
        category = Category.objects.filter(business_account=business_account, slug=slug).first()
    if category is None:
        position = Category.objects.filter(business_account=business_account).count()
        category = Category.objects.create(business_account=business_account, slug=slug, name=name, position=position)
    elif category.name != name:
        category.name = name
        category.save(update_fields=["name"])
    known[(business_account.pk, slug)] = category
    return category


@dataclass
class VariantSpec:
    """A variant as the system of record describes it (already validated)."""

    sku: str
    attributes: dict[str, str]
    price_minor: int
    currency: str
    image_url: str = ""
    active: bool = True
    on_hand: int | None = None  # None: the level stays as it is
    on_hand_as_of: datetime | None = None  # None: as of the write


@dataclass
class ProductSpec:
    """A product and some or all of its variants (already validated)."""

    external_id: str
    name: str
    category: str = ""  # "" files it under UNCATEGORISED
    description: str | None = None  # None keeps the product's (a feed row without one)
    image_urls: list[str] | None = None
    variants: list[VariantSpec] = field(default_factory=list)


@dataclass
class ProductOutcome:
    product: Product
    created: bool = False
    changed: bool = False  # the product's own fields
    variants: dict[str, str] = field(default_factory=dict)  # sku -> "created", "updated" or "unchanged"
    archived: int = 0

    @property
    def result(self) -> str:
        if self.created:
            return "created"
        moved = self.changed or self.archived or any(v != "unchanged" for v in self.variants.values())
        return "updated" if moved else "unchanged"


class CatalogRows:
    """The rows one upsert call reads. Alone, it asks the database per product (a feed row at a time);
    `preload`ed with a batch, it reads the batch's products and variants in two queries, locking the
    variants in id order (as checkout does), and answers from memory."""

    def __init__(self):
        self.categories: dict[tuple[int, str], Category] = {}
        self._products: dict[tuple[int, str], Product] | None = None
        self._variants: dict[tuple[int, str], Variant] | None = None
        self._of_product: dict[int, list[Variant]] = {}

    def preload(self, items: list[tuple[BusinessAccount, ProductSpec]]) -> None:
        products, variants = Q(pk__in=[]), Q(pk__in=[])
        for account_id in {account.pk for account, _ in items}:
            specs = [spec for account, spec in items if account.pk == account_id]
            products |= Q(business_account_id=account_id, external_id__in=[spec.external_id for spec in specs])
            variants |= Q(business_account_id=account_id, sku__in=[v.sku for spec in specs for v in spec.variants])
        self._products = {(p.business_account_id, p.external_id): p for p in Product.objects.filter(products)}
        variants |= Q(product_id__in=[p.pk for p in self._products.values()])
        self._variants = {}
        for variant in Variant.objects.select_for_update().filter(variants).order_by("pk"):
            self._remember(variant)

    def forget(self) -> None:
        """After a rolled-back savepoint, memory may hold rows that are not there: ask the database again."""
        self._products, self._variants, self._of_product = None, None, {}

    def _remember(self, variant: Variant) -> None:
        self._variants[(variant.business_account_id, variant.sku)] = variant
        self._of_product.setdefault(variant.product_id, []).append(variant)

    def product(self, business_account: BusinessAccount, external_id: str) -> Product | None:
        if self._products is None:
            return Product.objects.filter(business_account=business_account, external_id=external_id).first()
        return self._products.get((business_account.pk, external_id))

    def product_created(self, product: Product) -> None:
        if self._products is not None:
            self._products[(product.business_account_id, product.external_id)] = product

    def variants(self, business_account: BusinessAccount, skus: list[str]) -> dict[str, Variant]:
        if self._variants is None:
            rows = Variant.objects.select_for_update().filter(business_account=business_account, sku__in=skus)
            return {v.sku: v for v in rows}
        found = (self._variants.get((business_account.pk, sku)) for sku in skus)
        return {v.sku: v for v in found if v is not None}

    def variants_written(self, variants: list[Variant]) -> None:
        """Created ones, and ones that moved to another product."""
        if self._variants is not None:
            for variant in variants:
                self._remember(variant)

    def archive_missing(self, product: Product, skus: list[str], now: datetime) -> int:
        missing = product.variants.filter(active=True).exclude(sku__in=skus)
        if self._variants is not None:
            kept = set(skus)
            ids = {
                v.pk
                for v in self._of_product.get(product.pk, [])
                if v.product_id == product.pk and v.active and v.sku not in kept
            }
            if not ids:
                return 0
            missing = Variant.objects.filter(pk__in=ids)
            for variant in self._of_product[product.pk]:
                variant.active = variant.active and variant.pk not in ids
        return missing.update(active=False, meta_dirty=True, updated_at=now)


def product_apply(
    *,
    business_account: BusinessAccount,
    spec: ProductSpec,
    now: datetime,
    archive_missing: bool,
    rows: CatalogRows | None = None,
) -> ProductOutcome:
    """Write one product and the variants in `spec`, in the caller's transaction: the one write path
    of feeds, imports, the demo seed and the API. Anything Meta shows that changed is marked for the
    push; nothing is saved (no updated_at moves) when nothing changed. With `archive_missing`, the
    product's variants absent from `spec` are archived, never deleted: order lines point at them."""
    rows = rows or CatalogRows()
    category = _category(business_account, spec.category, rows.categories)
    product = rows.product(business_account, spec.external_id)
    if product is None:
        product = Product.objects.create(
            business_account=business_account,
            external_id=spec.external_id,
            category=category,
            name=spec.name,
            description=spec.description or "",
            image_urls=spec.image_urls or [],
        )
        rows.product_created(product)
        outcome = ProductOutcome(product=product, created=True)
    else:
        outcome = ProductOutcome(product=product)
        values = {"category_id": category.pk, "name": spec.name}
        if spec.description is not None:
            values["description"] = spec.description
        if spec.image_urls is not None:
            values["image_urls"] = spec.image_urls
        outcome.changed = _assign(product, values)
        if any(v.active for v in spec.variants) and not product.active:
            product.active = outcome.changed = True
        if outcome.changed:
            product.save()
            # Title, description and images are on every Meta item of the product.
            product.variants.update(meta_dirty=True, updated_at=now)
    _variants_apply(business_account, product, spec.variants, now, outcome, rows)
    if archive_missing and not outcome.created:  # a new product has nothing to archive
        outcome.archived = rows.archive_missing(product, [v.sku for v in spec.variants], now)
    if outcome.result == "updated" and not outcome.changed:  # a variant changed, so did the product
        Product.objects.filter(pk=product.pk).update(updated_at=now)
    return outcome


def _variants_apply(business_account, product, specs: list[VariantSpec], now: datetime, outcome, rows) -> None:
    existing = rows.variants(business_account, [spec.sku for spec in specs])
    sales = stock.sales_since(existing.values()) if any(s.on_hand is not None for s in specs) else {}
    new, moved = [], []
    for spec in specs:
        as_of = spec.on_hand_as_of or now
        values = {k: getattr(spec, k) for k in VARIANT_FIELDS}
        variant = existing.get(spec.sku)
        if variant is None:
            new.append(
                Variant(
                    product=product,
                    business_account=business_account,
                    sku=spec.sku,
                    meta_retailer_id=spec.sku,
                    on_hand=spec.on_hand or 0,
                    on_hand_as_of=as_of,
                    **values,
                )
            )
            outcome.variants[spec.sku] = "created"
            continue
        if variant.product_id != product.pk:
            moved.append(variant)
        changed = _assign(variant, {"product_id": product.pk, **values})
        level = stock.UNCHANGED
        if spec.on_hand is not None:
            level = stock.level_outcome(
                variant=variant, on_hand=spec.on_hand, as_of=as_of, sales=sales.get(variant.pk, ())
            )
            if level == stock.APPLIED:
                variant.on_hand, variant.on_hand_as_of = spec.on_hand, as_of
        if changed or level == stock.APPLIED:
            variant.meta_dirty = True
            variant.save()
        elif spec.on_hand is not None and level == stock.UNCHANGED and as_of > variant.on_hand_as_of:
            # The same level confirmed later: not a change, but its as_of is kept.
            Variant.objects.filter(pk=variant.pk).update(on_hand_as_of=as_of)
            variant.on_hand_as_of = as_of
        outcome.variants[spec.sku] = "updated" if changed or level == stock.APPLIED else "unchanged"
    Variant.objects.bulk_create(new)
    rows.variants_written(new + moved)
