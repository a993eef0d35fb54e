from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from catalog.money import amount_format, currency_is_valid
from waco.channels.models import BusinessAccount


def validate_currency(value: str) -> None:
    if not currency_is_valid(value):
        raise ValidationError(f"{value!r} is not a supported ISO 4217 currency code.")


class Shop(models.Model):
    """Catalog settings of one business account: which Meta catalog mirrors it."""

    business_account = models.OneToOneField(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_shop")
    meta_catalog_id = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"Catalog of {self.business_account}"


class Category(models.Model):
    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_categories")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["business_account", "slug"], name="catalog_category_slug")]

    def __str__(self):
        return self.name


class Product(models.Model):
    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    # The system of record's id for the product; variants hang off it in feeds.
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["business_account", "external_id"], name="catalog_product_external_id")
        ]

    def __str__(self):
        return self.name


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    # The product's account, copied so that a SKU is unique per account (two shops may share a SKU).
    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_variants")
    sku = models.CharField("SKU", max_length=100)
    attributes = models.JSONField(default=dict, blank=True)  # {"size": "M", "colour": "Blue"}
    price_minor = models.PositiveBigIntegerField(help_text="Price in minor units (fils, cents).")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    # The last level the system of record reported (feed, import, admin, API) and the moment it
    # describes. Waco never decrements it: sales since `on_hand_as_of` are subtracted when read
    # (catalog.stock.availability_for).
    on_hand = models.PositiveIntegerField(default=0)
    on_hand_as_of = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    meta_retailer_id = models.CharField(max_length=100, blank=True)
    image_url = models.CharField(max_length=500, blank=True)
    # Set whenever something Meta shows changed; the push task clears it after a good batch.
    meta_dirty = models.BooleanField(default=True, db_index=True)
    meta_synced_at = models.DateTimeField(null=True, blank=True)
    meta_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "sku"]
        constraints = [models.UniqueConstraint(fields=["business_account", "sku"], name="catalog_variant_sku")]

    def __str__(self):
        return self.sku

    def save(self, *args, **kwargs):
        self.meta_retailer_id = self.meta_retailer_id or self.sku
        if self.business_account_id is None:  # products never change account
            self.business_account_id = self.product.business_account_id
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """The product's name and the variant's attribute values: "Linen Abaya M"."""
        return " ".join([self.product.name, *(str(v) for v in (self.attributes or {}).values())])

    @property
    def price_display(self) -> str:
        return amount_format(self.price_minor, self.currency)


class StockReservation(models.Model):
    """Units of a variant held for a buyer (`holder`, e.g. "order:W7K3Q9P2") until `held_until`.

    Released when the sale falls through; consumed when it is paid, with the time of the
    sale: a consumed reservation after the variant's `on_hand_as_of` is a unit the system
    of record's level does not know has gone.
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="reservations")
    holder = models.CharField(max_length=64, db_index=True)
    quantity = models.PositiveIntegerField()
    held_until = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["variant", "held_until"]),
            models.Index(fields=["variant", "consumed_at"]),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.variant} for {self.holder}"


class FeedFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"


class FeedSource(models.Model):
    """A feed the system of record publishes; beat fetches it every `every_seconds`."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_feeds")
    url = models.URLField(max_length=1000)
    format = models.CharField(max_length=4, choices=FeedFormat.choices, default=FeedFormat.JSON)
    active = models.BooleanField(default=True)
    every_seconds = models.PositiveIntegerField(default=3600)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.url


class SyncStatus(models.TextChoices):
    RUNNING = "running"  # started, not finished (or the worker died)
    SUCCEEDED = "succeeded"  # every item applied
    PARTIAL = "partial"  # some items rejected, the rest applied
    FAILED = "failed"  # nothing applied (fetch or parse failed)


class SyncRun(models.Model):
    """One sync of a catalog: a feed fetch, an import, a REST push or the demo seed."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_sync_runs")
    source = models.CharField(max_length=1000)  # "feed:<url>", "import:<path>", "demo"...
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.source} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class MetaPush(models.Model):
    """One items_batch call to Meta's catalog and its outcome, so retries are visible."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="catalog_meta_pushes")
    attempted_at = models.DateTimeField()
    variant_count = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    handles = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    item_errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self):
        return f"{self.variant_count} variants at {self.attempted_at:%Y-%m-%d %H:%M}"
