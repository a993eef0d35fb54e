"""Available stock: on hand, less what is held, less what was sold after the level's as_of."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import stock
from catalog.models import StockReservation, Variant
from catalog.services import catalog_upsert
from tests.catalog.factories import VariantFactory, feed_item
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


def hold(variant, quantity, *, holder="order:A", minutes=40):
    now = timezone.now()
    stock.stock_hold(holder=holder, wanted={variant.pk: quantity}, held_until=now + timedelta(minutes=minutes), now=now)


def sell(variant, quantity, *, holder="order:A"):
    stock.stock_sell(holder=holder, wanted={variant.pk: quantity}, now=timezone.now())


def feed_level(variant, on_hand, *, as_of=None, now=None):
    """The system of record reports `on_hand` for the variant (at `as_of`, or at the fetch time `now`)."""
    item = feed_item(
        variant.sku,
        stock=on_hand,
        product_id=variant.product.external_id,
        name=variant.product.name,
        category=variant.product.category.name,
    )
    if as_of is not None:
        item["stock_as_of"] = as_of.isoformat()
    catalog_upsert(
        business_account=variant.product.business_account,
        items=[item],
        source="test",
        now=now or timezone.now(),
        full=False,
    )


def test_available_is_on_hand_less_open_holds_and_the_level_is_never_decremented():
    variant = VariantFactory(on_hand=5)
    hold(variant, 2)
    assert stock.available_one(variant=variant) == 3
    sell(variant, 2)
    assert stock.available_one(variant=variant) == 3
    assert Variant.objects.get(pk=variant.pk).on_hand == 5  # Waco never writes the system of record's level


def test_the_last_unit_held_by_one_buyer_is_not_offered_to_another_but_is_to_its_holder():
    variant = VariantFactory(on_hand=1)
    hold(variant, 1, holder="order:A")
    assert stock.availability_for(variant_ids=[variant.pk]) == {variant.pk: 0}
    assert stock.available_one(variant=variant, holder="order:A") == 1
    with pytest.raises(stock.NotEnoughStock) as short:
        hold(variant, 1, holder="order:B")
    assert short.value.available == {variant.pk: 0}


def test_a_hold_past_its_time_or_released_holds_nothing():
    variant = VariantFactory(on_hand=2)
    hold(variant, 1, holder="order:A", minutes=-1)
    hold(variant, 1, holder="order:B")
    stock.stock_release(holder="order:B", now=timezone.now())
    assert stock.available_one(variant=variant) == 2


def test_a_feed_level_whose_as_of_predates_a_sale_does_not_offer_the_sold_unit_again():
    variant = VariantFactory(on_hand=1, on_hand_as_of=timezone.now() - timedelta(hours=2))
    hold(variant, 1)
    sell(variant, 1)
    # The ERP exported its level an hour ago, before it heard of the sale; the fetch is now.
    feed_level(variant, 1, as_of=timezone.now() - timedelta(hours=1))
    assert Variant.objects.get(pk=variant.pk).on_hand == 1
    assert stock.available_one(variant=variant) == 0


def test_a_feed_without_as_of_is_as_of_its_fetch_time_before_a_sale_processed_meanwhile():
    variant = VariantFactory(on_hand=1, on_hand_as_of=timezone.now() - timedelta(hours=2))
    fetched_at = timezone.now()
    hold(variant, 1)
    sell(variant, 1)  # paid while the feed was being fetched
    feed_level(variant, 1, now=fetched_at)
    assert stock.available_one(variant=variant) == 0


def test_a_level_as_of_after_the_sale_is_taken_at_face_value():
    variant = VariantFactory(on_hand=1, on_hand_as_of=timezone.now() - timedelta(hours=2))
    hold(variant, 1)
    sell(variant, 1)
    feed_level(variant, 3, as_of=timezone.now() + timedelta(seconds=1))
    assert stock.available_one(variant=variant) == 3


def test_a_level_older_than_the_one_held_is_ignored():
    variant = VariantFactory(on_hand=4, on_hand_as_of=timezone.now())
    feed_level(variant, 9, as_of=timezone.now() - timedelta(hours=1))
    variant.refresh_from_db()
    assert variant.on_hand == 4


def test_a_sale_of_units_no_longer_held_takes_them_again_or_none():
    variant, other = VariantFactory(on_hand=1), VariantFactory(on_hand=1)
    hold(variant, 1, holder="order:A", minutes=-1)  # A's hold ran out...
    hold(variant, 1, holder="order:B")  # ...and B took the unit
    with pytest.raises(stock.NotEnoughStock):
        stock.stock_sell(holder="order:A", wanted={variant.pk: 1, other.pk: 1}, now=timezone.now())
    assert stock.availability_for(variant_ids=[variant.pk, other.pk]) == {variant.pk: 0, other.pk: 1}
    stock.stock_release(holder="order:B", now=timezone.now())
    stock.stock_sell(holder="order:A", wanted={variant.pk: 1, other.pk: 1}, now=timezone.now())
    assert stock.availability_for(variant_ids=[variant.pk, other.pk]) == {variant.pk: 0, other.pk: 0}
    assert StockReservation.objects.filter(holder="order:A", consumed_at__isnull=False).count() == 2


def test_availability_changes_queue_the_variant_for_the_meta_push():
    variant = VariantFactory(on_hand=3)
    Variant.objects.filter(pk=variant.pk).update(meta_dirty=False)
    hold(variant, 1)
    assert Variant.objects.get(pk=variant.pk).meta_dirty


def test_a_new_account_feed_item_is_created_as_of_its_fetch_time():
    account = BusinessAccountFactory()
    fetched_at = timezone.now() - timedelta(minutes=5)
    catalog_upsert(business_account=account, items=[feed_item("NEW-1", stock=7)], source="test", now=fetched_at)
    variant = Variant.objects.get(sku="NEW-1")
    assert (variant.on_hand, variant.on_hand_as_of) == (7, fetched_at)


def test_a_level_typed_in_the_admin_is_the_level_as_of_the_save():
    from django.forms import modelform_factory

    from catalog.admin import VariantForm

    an_hour_ago = timezone.now() - timedelta(hours=1)
    variant = VariantFactory(on_hand=2, on_hand_as_of=an_hour_ago)
    hold(variant, 1)
    sell(variant, 1)
    form = modelform_factory(Variant, form=VariantForm, fields=["on_hand"])(data={"on_hand": 5}, instance=variant)
    assert form.is_valid(), form.errors
    form.save()
    variant.refresh_from_db()
    assert variant.on_hand == 5 and variant.on_hand_as_of > an_hour_ago
    assert stock.available_one(variant=variant) == 5  # staff counted the shelf after the sale


def test_a_push_of_many_levels_is_read_and_written_in_a_few_queries(django_assert_max_num_queries):
    account = BusinessAccountFactory()
    variants = VariantFactory.create_batch(
        50, product__category__business_account=account, on_hand_as_of=timezone.now() - timedelta(hours=1)
    )
    now = timezone.now()
    levels = [stock.StockLevel(account.pk, v.sku, on_hand=100 + n, as_of=now) for n, v in enumerate(variants)]
    levels.append(stock.StockLevel(account.pk, "NOPE", on_hand=1, as_of=now))
    with django_assert_max_num_queries(5):  # lock and read, sales since, one UPDATE (and a savepoint)
        outcomes = stock.stock_levels_apply(levels=levels, now=now)
    assert outcomes == [stock.APPLIED] * 50 + [stock.UNKNOWN_SKU]
    stored = Variant.objects.filter(pk__in=[v.pk for v in variants]).order_by("pk")
    assert list(stored.values_list("on_hand", flat=True)) == list(range(100, 150))
