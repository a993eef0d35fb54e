from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from catalog import tasks
from catalog.models import Category, FeedSource, MetaPush, Product, Shop, SyncRun, Variant
from catalog.stock import available_one


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["business_account", "meta_catalog_id"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "business_account"]
    list_filter = ["business_account"]
    prepopulated_fields = {"slug": ["name"]}


class VariantForm(forms.ModelForm):
    """A level typed by staff is the level on hand as of the moment they save it."""

    def clean(self):
        # SKUs are unique per business account, which the form does not show: check it here,
        # rather than let the constraint fail the save (a product not saved yet has no account to check).
        cleaned = super().clean()
        sku, product_id = cleaned.get("sku"), self.instance.product_id
        if sku and product_id:
            account_id = Product.objects.filter(pk=product_id).values_list("business_account_id", flat=True).first()
            taken = Variant.objects.filter(business_account_id=account_id, sku=sku).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("sku", "Another variant of this business account has this SKU.")
        return cleaned

    def save(self, commit=True):
        if "on_hand" in self.changed_data:
            self.instance.on_hand_as_of = timezone.now()
            self.instance.meta_dirty = True
        return super().save(commit)


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    extra = 0
    fields = [
        "sku",
        "attributes",
        "price_minor",
        "currency",
        "price_display",
        "on_hand",
        "on_hand_as_of",
        "available",
        "active",
        "meta_retailer_id",
        "meta_dirty",
        "meta_error",
    ]
    readonly_fields = ["price_display", "on_hand_as_of", "available", "meta_dirty", "meta_error"]

    @admin.display(description="available now")
    def available(self, variant):
        return available_one(variant=variant) if variant.pk else "-"

    @admin.display(description="price")
    def price_display(self, variant):
        return variant.price_display if variant.pk else "-"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "active", "business_account", "updated_at"]
    list_filter = ["active", "business_account", "category"]
    search_fields = ["name", "external_id", "variants__sku"]
    inlines = [VariantInline]


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["url", "format", "business_account", "active", "every_seconds", "last_fetched_at"]
    actions = ["sync_now"]

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        for feed in queryset:
            tasks.sync_feed.delay(feed.pk)
        messages.info(request, f"Queued {queryset.count()} feed sync(s); see Sync runs for the result.")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "business_account",
        "status",
        "started_at",
        "duration_seconds",
        "created",
        "updated",
        "deactivated",
        "unchanged",
        "error_count",
    ]
    list_filter = ["status", "business_account"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    *["business_account", "source", "status", "started_at", "finished_at"],
                    *["created", "updated", "deactivated", "unchanged", "error_count"],
                ]
            },
        ),
        ("Details", {"classes": ["collapse"], "fields": ["errors"]}),  # the feed's raw rows and messages
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetaPush)
class MetaPushAdmin(admin.ModelAdmin):
    list_display = ["business_account", "attempted_at", "variant_count", "succeeded", "error"]
    fieldsets = [
        (None, {"fields": ["business_account", "attempted_at", "variant_count", "succeeded", "error"]}),
        # Meta's batch handles and per-item answers, as Meta sent them.
        ("Details", {"classes": ["collapse"], "fields": ["handles", "item_errors"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
