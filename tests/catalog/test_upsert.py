import pytest
from django.utils import timezone

from catalog.models import Product, SyncRun, SyncStatus, Variant
from catalog.services import catalog_upsert
from tests.catalog.factories import feed_item
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


def upsert(account, items, **kwargs):
    return catalog_upsert(business_account=account, items=items, source="test", now=timezone.now(), **kwargs)


def test_upsert_creates_categories_products_and_variants():
    account = BusinessAccountFactory()
    result = upsert(account, [feed_item("ABY-1-S", attributes={"size": "S"}), feed_item("ABY-1-M")])
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    product = Product.objects.get(business_account=account, external_id="ABY-1")
    assert product.category.name == "Abayas" and product.category.slug == "abayas"
    assert sorted(product.variants.values_list("sku", flat=True)) == ["ABY-1-M", "ABY-1-S"]
    variant = Variant.objects.get(sku="ABY-1-M")
    assert variant.meta_retailer_id == "ABY-1-M"
    assert variant.price_minor == 1250 and isinstance(variant.price_minor, int)
    assert variant.price_display == "12.50 AED"


def test_running_the_same_feed_twice_changes_nothing():
    account = BusinessAccountFactory()
    items = [feed_item("A-1"), feed_item("B-1", category="Scarves")]
    upsert(account, items)
    before = list(Variant.objects.order_by("pk").values())
    second = upsert(account, items)
    assert (second.created, second.updated, second.unchanged, second.deactivated) == (0, 0, 2, 0)
    after = list(Variant.objects.order_by("pk").values())
    # The same level, confirmed later: only its as_of moves.
    assert [{**row, "on_hand_as_of": None} for row in after] == [{**row, "on_hand_as_of": None} for row in before]
    assert all(new["on_hand_as_of"] > old["on_hand_as_of"] for new, old in zip(after, before, strict=True))


def test_a_changed_price_updates_the_variant_and_queues_it_for_meta():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("A-1")])
    Variant.objects.update(meta_dirty=False)
    result = upsert(account, [feed_item("A-1", price="14.00", stock=0)])
    assert (result.updated, result.unchanged) == (1, 0)
    variant = Variant.objects.get(sku="A-1")
    assert (variant.price_minor, variant.on_hand, variant.meta_dirty) == (1400, 0, True)


def test_a_product_missing_from_a_full_feed_is_deactivated_not_deleted():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("A-1"), feed_item("B-1")])
    result = upsert(account, [feed_item("A-1")])
    assert result.deactivated == 1
    gone = Variant.objects.get(sku="B-1")
    assert not gone.active and not gone.product.active
    assert Variant.objects.get(sku="A-1").active
    back = upsert(account, [feed_item("A-1"), feed_item("B-1")])
    assert back.updated == 1 and Variant.objects.get(sku="B-1").product.active


def test_a_partial_push_deactivates_nothing():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("A-1"), feed_item("B-1")])
    assert upsert(account, [feed_item("A-1")], full=False).deactivated == 0
    assert Variant.objects.filter(active=True).count() == 2


def test_a_bad_item_is_reported_and_the_rest_applied():
    account = BusinessAccountFactory()
    items = [
        feed_item("A-1"),
        feed_item("BAD-1", currency="XXX"),
        feed_item("BAD-2", price="12.345"),
        feed_item("BAD-3", stock=-2),
        {"name": "no sku"},
        feed_item("C-1"),
    ]
    result = upsert(account, items)
    assert result.created == 2
    assert [e["index"] for e in result.errors] == [1, 2, 3, 4]
    assert "currency" in result.errors[0]["error"]
    assert not Variant.objects.filter(sku__startswith="BAD").exists()
    assert not Product.objects.filter(external_id__startswith="BAD").exists()
    run = SyncRun.objects.get(pk=result.run.pk)
    assert run.status == SyncStatus.PARTIAL and run.error_count == 4 and run.created == 2
    assert run.finished_at is not None and run.duration_seconds >= 0


def test_a_bad_row_for_a_known_sku_does_not_deactivate_it():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("A-1")])
    result = upsert(account, [feed_item("A-1", price="oops")])
    assert result.deactivated == 0 and Variant.objects.get(sku="A-1").active


def test_the_same_sku_in_another_account_is_another_variant():
    first, second = BusinessAccountFactory(), BusinessAccountFactory()
    upsert(first, [feed_item("A-1")])
    result = upsert(second, [feed_item("A-1", price="1.00")])
    assert (result.created, result.errors) == (1, [])
    prices = dict(Variant.objects.filter(sku="A-1").values_list("business_account", "price_minor"))
    assert prices == {first.pk: 1250, second.pk: 100}


def test_price_minor_is_taken_as_integer_minor_units():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("J-1", price=None, price_minor=1500, currency="JPY")])
    variant = Variant.objects.get(sku="J-1")
    assert variant.price_minor == 1500 and variant.price_display == "1500 JPY"


def test_a_renamed_product_queues_all_its_variants_for_meta():
    account = BusinessAccountFactory()
    upsert(account, [feed_item("A-1"), feed_item("A-2")])
    Variant.objects.update(meta_dirty=False)
    result = upsert(account, [feed_item("A-1", name="New name"), feed_item("A-2", name="New name")])
    assert (result.updated, result.unchanged) == (1, 1)  # the second row brought nothing new
    assert Variant.objects.filter(meta_dirty=True).count() == 2
