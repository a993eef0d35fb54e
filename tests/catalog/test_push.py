"""The push to Meta's catalog, against the real sandbox over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import stock, tasks
from catalog.models import MetaPush, Variant
from catalog.push import catalog_push_to_meta
from catalog.services import catalog_upsert
from tests.catalog.factories import ShopFactory, feed_item
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.sandbox.models import CatalogItem

pytestmark = pytest.mark.django_db(transaction=True)

CATALOG_ID = "777000111"


@pytest.fixture
def shop(settings, live_server):
    """The business account of the shop on the sandbox, its Meta catalog seeded there too."""
    account = sandbox_shop_wire(settings, live_server, catalog_id=CATALOG_ID).account
    ShopFactory(business_account=account, meta_catalog_id=CATALOG_ID)
    return account


def upsert(account, items):
    return catalog_upsert(business_account=account, items=items, source="test", now=timezone.now())


def test_push_sends_changed_variants_to_the_sandbox_catalog(shop):
    upsert(
        shop,
        [
            feed_item("ABY-1-M", price="320.50", stock=4, attributes={"size": "M", "colour": "Black"}),
            feed_item("ABY-1-L", price="320.50", stock=0),
        ],
    )
    tasks.push_to_meta.apply(args=[shop.pk])
    items = {item.retailer_id: item.data for item in CatalogItem.objects.filter(catalog_id=CATALOG_ID)}
    assert items["ABY-1-M"]["price"] == "320.50 AED"
    assert items["ABY-1-M"]["availability"] == "in stock"
    assert items["ABY-1-M"]["size"] == "M" and items["ABY-1-M"]["color"] == "Black"
    assert items["ABY-1-L"]["availability"] == "out of stock"
    assert not Variant.objects.filter(meta_dirty=True).exists()
    assert MetaPush.objects.get().succeeded


def test_only_changed_variants_are_pushed_again(shop):
    upsert(shop, [feed_item("A-1"), feed_item("B-1")])
    catalog_push_to_meta(business_account=shop, now=timezone.now())
    upsert(shop, [feed_item("A-1", price="9.99"), feed_item("B-1")])
    result = catalog_push_to_meta(business_account=shop, now=timezone.now())
    assert result.pushed == 1
    assert CatalogItem.objects.get(retailer_id="A-1").data["price"] == "9.99 AED"
    assert MetaPush.objects.order_by("pk").last().variant_count == 1


def test_a_deactivated_variant_is_pushed_out_of_stock(shop):
    upsert(shop, [feed_item("A-1"), feed_item("B-1")])
    catalog_push_to_meta(business_account=shop, now=timezone.now())
    upsert(shop, [feed_item("A-1")])
    catalog_push_to_meta(business_account=shop, now=timezone.now())
    data = CatalogItem.objects.get(retailer_id="B-1").data
    assert data["availability"] == "out of stock" and data["visibility"] == "staging"


def test_a_graph_error_is_recorded_and_the_variants_stay_dirty(shop, settings):
    shop.access_token = "wrong-token"
    shop.save()
    upsert(shop, [feed_item("A-1")])
    tasks.push_to_meta.apply(args=[shop.pk])
    push = MetaPush.objects.get()
    assert not push.succeeded and push.error
    assert Variant.objects.get(sku="A-1").meta_dirty
    assert not CatalogItem.objects.exists()


def test_the_push_sends_what_can_be_sold_now_not_the_level_on_hand(shop):
    upsert(shop, [feed_item("ABY-2-M", stock=3), feed_item("ABY-2-L", stock=1)])
    medium, large = Variant.objects.get(sku="ABY-2-M"), Variant.objects.get(sku="ABY-2-L")
    now = timezone.now()
    stock.stock_hold(
        holder="order:A", wanted={medium.pk: 1, large.pk: 1}, held_until=now + timedelta(minutes=40), now=now
    )
    stock.stock_sell(holder="order:A", wanted={medium.pk: 1, large.pk: 1}, now=now)
    catalog_push_to_meta(business_account=shop, now=timezone.now())
    items = {item.retailer_id: item.data for item in CatalogItem.objects.filter(catalog_id=CATALOG_ID)}
    assert (items["ABY-2-M"]["inventory"], items["ABY-2-M"]["availability"]) == (2, "in stock")
    assert (items["ABY-2-L"]["inventory"], items["ABY-2-L"]["availability"]) == (0, "out of stock")
