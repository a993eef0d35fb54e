"""POST /api/v1/stock: levels applied, unchanged, stale or unknown, and sales after a level's as_of kept out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import stock
from catalog.models import Variant
from tests.catalog.factories import ShopFactory, VariantFactory
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return BusinessAccountFactory()


@pytest.fixture
def client(api_client_factory, account):
    return api_client_factory(scopes=["catalog:write"], accounts=[account])


@pytest.fixture
def variant(account):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    return VariantFactory(
        product__category__business_account=account, sku="ABY-M", on_hand=5, on_hand_as_of=an_hour_ago
    )


def push(client, *levels) -> list[str]:
    answer = client.post("/api/v1/stock", {"levels": list(levels)})
    assert answer.status_code == 200, answer.json()
    return [r["result"] for r in answer.json()["results"]]


def level(sku="ABY-M", on_hand=3, as_of=None, **extra) -> dict:
    return {"sku": sku, "on_hand": on_hand, "as_of": (as_of or timezone.now()).isoformat(), **extra}


def test_each_level_says_what_it_did(client, variant, account, django_capture_on_commit_callbacks):
    ShopFactory(business_account=account)
    Variant.objects.update(meta_dirty=False)
    now = timezone.now()
    with django_capture_on_commit_callbacks() as pushes:
        results = push(
            client,
            level(on_hand=3, as_of=now),
            level(on_hand=9, as_of=now - timedelta(minutes=1)),  # older than the level just applied
            level(on_hand=3, as_of=now),  # a retry
            level(sku="NOPE"),
        )
    assert results == ["applied", "stale", "unchanged", "unknown_sku"]
    variant.refresh_from_db()
    assert (variant.on_hand, variant.on_hand_as_of, variant.meta_dirty) == (3, now, True)
    assert len(pushes) == 1  # what Meta shows follows availability


def test_the_same_figure_counted_later_is_unchanged_and_moves_only_its_as_of(client, variant):
    Variant.objects.update(meta_dirty=False)
    before = Variant.objects.get(pk=variant.pk)
    later = timezone.now()
    assert push(client, level(on_hand=5, as_of=later)) == ["unchanged"]
    after = Variant.objects.get(pk=variant.pk)
    assert (after.on_hand_as_of, after.updated_at, after.meta_dirty) == (later, before.updated_at, False)


def test_a_level_counted_before_a_sale_does_not_offer_the_sold_units_again(client, variant):
    counted = timezone.now()
    now = counted + timedelta(seconds=1)
    stock.stock_hold(holder="order:A", wanted={variant.pk: 2}, held_until=now + timedelta(minutes=30), now=now)
    stock.stock_sell(holder="order:A", wanted={variant.pk: 2}, now=now)
    assert push(client, level(on_hand=6, as_of=counted)) == ["applied"]  # the ERP has not heard of the sale
    assert stock.available_one(variant=variant) == 4
    # Counted after the sale, the figure is the ERP's word: it knows of the sale.
    assert push(client, level(on_hand=4, as_of=now + timedelta(seconds=1))) == ["applied"]
    assert stock.available_one(variant=variant) == 4


def test_the_same_figure_counted_after_a_sale_is_applied_because_the_sale_is_now_counted(client, variant):
    sold_at = timezone.now()
    stock.stock_hold(holder="order:A", wanted={variant.pk: 1}, held_until=sold_at + timedelta(minutes=30), now=sold_at)
    stock.stock_sell(holder="order:A", wanted={variant.pk: 1}, now=sold_at)
    assert stock.available_one(variant=variant) == 4
    assert push(client, level(on_hand=5, as_of=sold_at + timedelta(seconds=1))) == ["applied"]
    assert stock.available_one(variant=variant) == 5


def test_a_sku_is_looked_up_in_the_named_account(api_client_factory, variant, account):
    other = BusinessAccountFactory()
    twin = VariantFactory(product__category__business_account=other, sku="ABY-M", on_hand=1)
    both = api_client_factory(scopes=["catalog:write"])
    assert push(both, level(on_hand=7, account=other.waba_id)) == ["applied"]
    assert Variant.objects.get(pk=twin.pk).on_hand == 7 and Variant.objects.get(pk=variant.pk).on_hand == 5
    refused = both.post("/api/v1/stock", {"levels": [level()]})  # two accounts: which one?
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/account"


def test_bad_levels_refuse_the_push_whole_with_pointers(client, variant):
    answer = client.post(
        "/api/v1/stock",
        {"levels": [level(on_hand=4), {"sku": "ABY-M", "on_hand": -1, "as_of": "yesterday"}, {"on_hand": 1}]},
    )
    assert answer.status_code == 422
    assert {e["pointer"] for e in answer.json()["errors"]} == {
        "/levels/1/on_hand",
        "/levels/1/as_of",
        "/levels/2/sku",
        "/levels/2/as_of",
    }
    assert Variant.objects.get(pk=variant.pk).on_hand == 5


def test_more_than_1000_levels_are_refused(client, variant):
    answer = client.post("/api/v1/stock", {"levels": [level() for _ in range(1001)]})
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/levels"
    assert Variant.objects.get(pk=variant.pk).on_hand == 5
