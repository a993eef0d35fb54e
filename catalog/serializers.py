"""The catalog API's bodies: products with their variants, stock levels and per-item results."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from catalog.money import currency_is_valid
from catalog.upsert import ProductSpec, VariantSpec

MAX_BATCH = 1000
MAX_VARIANTS = 200
# Postgres' integer column for on_hand; price_minor is a bigint, capped well below it.
MAX_ON_HAND = 2**31 - 1
MAX_PRICE_MINOR = 10**15


class BlankIsGivenMixin:
    """`?updated_since=` is a wrong time, not an absent one (DRF skips blank query values otherwise)."""

    def get_value(self, dictionary):
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class AwareDateTimeField(BlankIsGivenMixin, serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset: a time without one is ambiguous, so refused."""

    default_error_messages = {"naive": "Give the time's UTC offset, e.g. 2026-12-07T09:00:00Z."}

    def to_internal_value(self, value):
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


class AccountField(BlankIsGivenMixin, serializers.CharField):
    def __init__(self, **kwargs):
        help_text = "The business account's WABA id; needed only when the key can see several."
        super().__init__(max_length=64, required=False, help_text=help_text, **kwargs)


# ---- writes


class VariantInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100, help_text="Unique within the business account.")
    options = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        default=dict,
        help_text='What tells the variants apart, e.g. {"size": "M", "colour": "Sand"}.',
    )
    price_minor = serializers.IntegerField(min_value=0, max_value=MAX_PRICE_MINOR, help_text="In minor units.")
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. AED.")
    image_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    on_hand = serializers.IntegerField(
        min_value=0, max_value=MAX_ON_HAND, required=False, help_text="Optional level; POST /stock is the usual way."
    )
    as_of = AwareDateTimeField(required=False, help_text="When `on_hand` was counted (default: now).")

    def validate_options(self, options: dict) -> dict:
        for name in options:
            if not name or len(name) > 100 or "\x00" in name:
                raise serializers.ValidationError(f"Option names have 1 to 100 characters: {name[:100]!r} has not.")
        return options

    def validate_currency(self, value: str) -> str:
        if not currency_is_valid(value.upper()):
            raise serializers.ValidationError(f"{value!r} is not a supported ISO 4217 currency code.")
        return value.upper()

    def validate(self, data):
        if "as_of" in data and "on_hand" not in data:
            raise serializers.ValidationError({"as_of": "as_of describes an on_hand level: give on_hand too."})
        return data


class ProductInSerializer(serializers.Serializer):
    """PUT /products/{external_id}: the whole product; variants left out are archived."""

    account = AccountField()
    name = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text='Default: "Uncategorised".'
    )
    image_urls = serializers.ListField(
        child=serializers.URLField(max_length=1000), required=False, default=list, max_length=20
    )
    variants = VariantInSerializer(many=True, min_length=1, max_length=MAX_VARIANTS)

    def validate_variants(self, variants):
        seen, errors = set(), []
        for variant in variants:
            errors.append({"sku": ["This SKU is already listed in this product."]} if variant["sku"] in seen else {})
            seen.add(variant["sku"])
        if any(errors):
            raise serializers.ValidationError(errors)
        return variants

    def spec(self, external_id: str) -> ProductSpec:
        data = self.validated_data
        variants = [
            VariantSpec(
                sku=v["sku"],
                attributes=v["options"],
                price_minor=v["price_minor"],
                currency=v["currency"],
                image_url=v["image_url"],
                on_hand=v.get("on_hand"),
                on_hand_as_of=v.get("as_of"),
            )
            for v in data["variants"]
        ]
        return ProductSpec(
            external_id=external_id,
            name=data["name"],
            category=data["category"],
            description=data["description"],
            image_urls=data["image_urls"],
            variants=variants,
        )


class ProductBatchItemSerializer(ProductInSerializer):
    external_id = serializers.CharField(max_length=100, help_text="The storefront's id of the product.")


class ProductBatchSerializer(serializers.Serializer):
    """What the request must be; each product in it is validated on its own (a bad one spoils nothing else)."""

    products = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_BATCH,
        help_text="Each product as the body of PUT /products/{external_id}, with its `external_id`. A product "
        "that is not valid is answered `invalid` with its errors; the others are still written.",
    )


class StockLevelInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    on_hand = serializers.IntegerField(min_value=0, max_value=MAX_ON_HAND)
    as_of = AwareDateTimeField(help_text="When the level was counted; a level not later than the one held is stale.")
    account = AccountField()


class StockPushSerializer(serializers.Serializer):
    levels = StockLevelInSerializer(many=True, min_length=1, max_length=MAX_BATCH)


# ---- answers


class ProblemItemSerializer(serializers.Serializer):
    pointer = serializers.CharField()
    detail = serializers.CharField()


class VariantSerializer(serializers.Serializer):
    sku = serializers.CharField()
    options = serializers.DictField(source="attributes", child=serializers.CharField())
    price_minor = serializers.IntegerField()
    currency = serializers.CharField()
    image_url = serializers.CharField()
    active = serializers.BooleanField(help_text="False once archived (left out of a PUT, or the product deleted).")
    on_hand = serializers.IntegerField(help_text="The last level reported.")
    as_of = serializers.DateTimeField(source="on_hand_as_of", help_text="The time that level describes.")
    available = serializers.IntegerField(
        help_text="What can be sold now: on_hand less units held by open checkouts and units sold after as_of."
    )


class ProductSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    account = serializers.CharField(source="business_account.waba_id")
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField(source="category.name")
    image_urls = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    variants = VariantSerializer(many=True)


class ProductWriteResultSerializer(ProductSerializer):
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class ProductArchiveResultSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    result = serializers.ChoiceField(choices=["archived", "unchanged"], help_text="unchanged: already archived.")


class ProductBatchItemResultSerializer(serializers.Serializer):
    external_id = serializers.CharField(allow_null=True)
    result = serializers.ChoiceField(
        choices=["created", "updated", "unchanged", "invalid", "failed"],
        help_text="invalid: `errors` says why, nothing of it was stored; failed: written concurrently, retry.",
    )
    errors = ProblemItemSerializer(many=True, required=False)


class ProductBatchResultSerializer(serializers.Serializer):
    results = ProductBatchItemResultSerializer(many=True, help_text="One per product, in the request's order.")


class StockLevelResultSerializer(serializers.Serializer):
    sku = serializers.CharField()
    result = serializers.ChoiceField(
        choices=["applied", "unchanged", "stale", "unknown_sku"],
        help_text="stale: its as_of is not later than the level held; unknown_sku: no such variant.",
    )


class StockPushResultSerializer(serializers.Serializer):
    results = StockLevelResultSerializer(many=True, help_text="One per level, in the request's order.")


class ProductFilterSerializer(serializers.Serializer):
    updated_since = AwareDateTimeField(
        required=False, help_text="Products whose product or variant data changed at or after this time."
    )
    account = AccountField()


class ProductLookupSerializer(serializers.Serializer):
    """The path's external_id and the optional ?account= of GET and DELETE."""

    external_id = serializers.CharField(max_length=100)
    account = AccountField()
