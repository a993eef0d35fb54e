"""A campaign's audience as filters over contacts, checked when the campaign is made and applied in SQL.

A segment is a JSON object; every key is optional and all given keys must hold:
- tags_all: [tag, ...]        has every one of these tags
- tags_any: [tag, ...]        has at least one of them
- attributes: {key: value}    each attribute equals the value
- countries: ["AE", ...]      the contact's country (waco.contacts.timezones.country_of) is one of these
- ordered_within_days: N      paid an order of the campaign's account in the last N days
- not_ordered_within_days: N  paid none in the last N days
- ordered_product_ids: [id]   paid an order with one of these products (within ordered_within_days, if given)
- ordered_category_ids: [id]  paid an order with a product of one of these categories (same window)
- quiet_since_days: N         has not written to any of the account's numbers for N days

Consent is not a filter here: the template's category always requires it, and a contact without it
is a skipped recipient with its reason, not a contact the segment leaves out.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from checkout.models import Order, OrderLine, OrderStatus
from waco.contacts.models import Contact, ServiceWindow
from waco.contacts.timezones import COUNTRY_TIME_ZONES

_LISTS_OF_TEXT = ("tags_all", "tags_any")
_LISTS_OF_IDS = ("ordered_product_ids", "ordered_category_ids")
_DAYS = ("ordered_within_days", "not_ordered_within_days", "quiet_since_days")
SEGMENT_KEYS = frozenset({*_LISTS_OF_TEXT, *_LISTS_OF_IDS, *_DAYS, "attributes", "countries"})
# Orders the customer paid for (refunded or cancelled ones did not end in a purchase).
PAID_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
)


def segment_validate(segment: object) -> dict:
    """The segment, or ValidationError naming each filter that is unknown or malformed."""
    if not isinstance(segment, dict):
        raise ValidationError({"segment": "A segment is an object of filters."})
    errors = []
    unknown = sorted(set(segment) - SEGMENT_KEYS)
    if unknown:
        errors.append(f"Unknown filters (not applied by campaigns yet): {', '.join(unknown)}.")
    for key in _LISTS_OF_TEXT:
        if key in segment and not _list_of(segment[key], str):
            errors.append(f"{key} must be a non-empty list of tags.")
    for key in _LISTS_OF_IDS:
        if key in segment and not _list_of(segment[key], int):
            errors.append(f"{key} must be a non-empty list of ids.")
    for key in _DAYS:
        if key in segment and not (type(segment[key]) is int and segment[key] >= 1):
            errors.append(f"{key} must be a whole number of days from 1.")
    if "attributes" in segment and not (isinstance(segment["attributes"], dict) and segment["attributes"]):
        errors.append("attributes must be a non-empty object of attribute: value.")
    countries = segment.get("countries")
    if countries is not None:
        if not _list_of(countries, str):
            errors.append("countries must be a non-empty list of ISO 3166 codes.")
        elif unknown_countries := sorted(set(countries) - set(COUNTRY_TIME_ZONES)):
            errors.append(f"Unknown country codes: {', '.join(unknown_countries)}.")
    if errors:
        raise ValidationError({"segment": errors})
    return segment


def _list_of(value: object, kind: type) -> bool:
    return isinstance(value, list) and bool(value) and all(type(item) is kind for item in value)


def tags_in_sql() -> bool:
    """JSON containment is PostgreSQL's (and not SQLite's): elsewhere tags are matched per batch in Python."""
    return connection.features.supports_json_field_contains


def segment_contacts(*, segment: dict, business_account, now: datetime) -> QuerySet[Contact]:
    """The contacts the segment's SQL filters select (countries, and tags where tags_in_sql() is false,
    are left to segment_matches_row)."""
    contacts = Contact.objects.all()
    if tags_in_sql():
        for tag in segment.get("tags_all", ()):
            contacts = contacts.filter(tags__contains=[tag])
        if tags_any := segment.get("tags_any"):
            any_tag = Q()
            for tag in tags_any:
                any_tag |= Q(tags__contains=[tag])
            contacts = contacts.filter(any_tag)
    for key, value in segment.get("attributes", {}).items():
        contacts = contacts.filter(**{f"attributes__{key}": value})
    paid = Order.objects.filter(contact=OuterRef("pk"), business_account=business_account, status__in=PAID_STATUSES)
    within = segment.get("ordered_within_days")
    since = now - timedelta(days=within) if within else None
    product_ids, category_ids = segment.get("ordered_product_ids"), segment.get("ordered_category_ids")
    if product_ids or category_ids:
        lines = OrderLine.objects.filter(
            Q(variant__product_id__in=product_ids or []) | Q(variant__product__category_id__in=category_ids or []),
            order__contact=OuterRef("pk"),
            order__business_account=business_account,
            order__status__in=PAID_STATUSES,
        )
        contacts = contacts.filter(Exists(lines.filter(order__paid_at__gte=since) if since else lines))
    elif since:
        contacts = contacts.filter(Exists(paid.filter(paid_at__gte=since)))
    if days := segment.get("not_ordered_within_days"):
        contacts = contacts.exclude(Exists(paid.filter(paid_at__gte=now - timedelta(days=days))))
    if days := segment.get("quiet_since_days"):
        spoke = ServiceWindow.objects.filter(
            contact=OuterRef("pk"),
            phone_number__business_account=business_account,
            last_inbound_at__gte=now - timedelta(days=days),
        )
        contacts = contacts.exclude(Exists(spoke))
    return contacts


def segment_matches_row(segment: dict, *, tags: list, country: str | None) -> bool:
    """The filters applied per row of a batch: countries always, tags where SQL could not."""
    if "countries" in segment and country not in segment["countries"]:
        return False
    if not tags_in_sql():
        tags = set(tags or ())
        if not tags.issuperset(segment.get("tags_all", ())):
            return False
        if "tags_any" in segment and not tags.intersection(segment["tags_any"]):
            return False
    return True
