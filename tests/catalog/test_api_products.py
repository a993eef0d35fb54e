"""PUT, batch, GET and DELETE of /api/v1/products: one write path with feeds, scopes, accounts, refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import stock
from catalog.models import Category, Product, Variant
from tests.catalog.factories import ShopFactory, VariantFactory, feed_item
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db

READ, WRITE = ["catalog:read"], ["catalog:write"]


def abaya(**overrides) -> dict:
    body = {
        "name": "Linen Abaya",
        "category": "Abayas",
        "image_urls": ["https://shop.example/img/abaya.jpg"],
        "variants": [
            {"sku": "ABY-M", "options": {"size": "M"}, "price_minor": 32050, "currency": "AED"},
            {"sku": "ABY-L", "options": {"size": "L"}, "price_minor": 34000, "currency": "aed"},
        ],
    }
    return {**body, **overrides}


@pytest.fixture
def account():
    return BusinessAccountFactory()


@pytest.fixture
def client(api_client_factory, account):
    return api_client_factory(scopes=READ + WRITE, accounts=[account])


def test_put_creates_a_product_with_its_variants_then_the_same_body_is_unchanged(
    client, account, django_capture_on_commit_callbacks
):
    ShopFactory(business_account=account)
    with django_capture_on_commit_callbacks() as pushes:
        created = client.put("/api/v1/products/ABY-1", abaya())
    assert created.status_code == 201 and created.json()["result"] == "created"
    assert len(pushes) == 1  # the Meta catalog push, queued after the commit
    variants = {v["sku"]: v for v in created.json()["variants"]}
    assert variants["ABY-L"]["currency"] == "AED" and variants["ABY-M"]["options"] == {"size": "M"}
    assert Variant.objects.filter(business_account=account, meta_dirty=True).count() == 2
    before = list(Variant.objects.order_by("pk").values()), list(Product.objects.values())

    with django_capture_on_commit_callbacks() as pushes:
        again = client.put("/api/v1/products/ABY-1", abaya())
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    assert pushes == []
    assert (list(Variant.objects.order_by("pk").values()), list(Product.objects.values())) == before


def test_a_changed_price_updates_and_a_variant_left_out_is_archived_not_deleted(client, account):
    client.put("/api/v1/products/ABY-1", abaya())
    Variant.objects.update(meta_dirty=False)
    body = abaya(variants=[{"sku": "ABY-M", "options": {"size": "M"}, "price_minor": 29900, "currency": "AED"}])
    answer = client.put("/api/v1/products/ABY-1", body)
    assert answer.json()["result"] == "updated"
    kept, left_out = Variant.objects.get(sku="ABY-M"), Variant.objects.get(sku="ABY-L")
    assert (kept.price_minor, kept.active, kept.meta_dirty) == (29900, True, True)
    assert (left_out.active, left_out.meta_dirty) == (False, True)
    assert {v["sku"]: v["active"] for v in answer.json()["variants"]} == {"ABY-M": True, "ABY-L": False}


def test_a_product_without_category_goes_under_the_accounts_uncategorised(client, account):
    body = abaya()
    del body["category"]
    assert client.put("/api/v1/products/ABY-1", body).json()["category"] == "Uncategorised"
    assert Category.objects.get(business_account=account, slug="uncategorised").products.count() == 1


def test_the_api_and_feeds_write_the_same_rows(client, account):
    from catalog.services import catalog_upsert

    item = feed_item("ABY-M", product_id="ABY-1", name="Linen Abaya", price="320.50", attributes={"size": "M"})
    catalog_upsert(business_account=account, items=[item], source="feed:test", now=timezone.now(), full=False)
    body = abaya(variants=[{"sku": "ABY-M", "options": {"size": "M"}, "price_minor": 32050, "currency": "AED"}])
    answer = client.put("/api/v1/products/ABY-1", body)
    assert answer.json()["result"] == "updated"  # the images the feed did not give
    assert Variant.objects.count() == 1 and Product.objects.count() == 1


def test_one_bad_variant_stores_nothing_of_the_product_and_points_at_the_field(client):
    body = abaya()
    body["variants"][1]["currency"] = "XYZ"
    body["variants"].append({"sku": "ABY-M", "price_minor": -1, "currency": "AED"})
    answer = client.put("/api/v1/products/ABY-1", body)
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    pointers = {e["pointer"] for e in answer.json()["errors"]}
    assert pointers == {"/variants/1/currency", "/variants/2/price_minor"}
    assert not Product.objects.exists() and not Variant.objects.exists()


def test_a_duplicate_sku_in_one_body_is_refused(client):
    body = abaya()
    body["variants"][1]["sku"] = "ABY-M"
    answer = client.put("/api/v1/products/ABY-1", body)
    assert answer.status_code == 422
    assert [e["pointer"] for e in answer.json()["errors"]] == ["/variants/1/sku"]


def test_a_level_without_utc_offset_is_refused(client):
    body = abaya()
    body["variants"][0].update(on_hand=3, as_of="2026-12-07T09:00:00")
    answer = client.put("/api/v1/products/ABY-1", body)
    assert [e["pointer"] for e in answer.json()["errors"]] == ["/variants/0/as_of"]


def test_skus_are_unique_per_account_not_globally(api_client_factory, account):
    other = BusinessAccountFactory()
    VariantFactory(product__category__business_account=other, sku="ABY-M", price_minor=100)
    client = api_client_factory(scopes=WRITE + READ, accounts=[account])
    assert client.put("/api/v1/products/ABY-1", abaya()).json()["result"] == "created"
    prices = dict(Variant.objects.filter(sku="ABY-M").values_list("business_account", "price_minor"))
    assert prices == {other.pk: 100, account.pk: 32050}


def test_batch_answers_per_item_in_order_and_a_bad_item_spoils_nothing_else(client):
    products = [
        {"external_id": "ABY-1", **abaya()},
        {"external_id": "BAD", "name": "", "variants": [{"sku": "B-1", "price_minor": 1, "currency": "AED"}]},
        {
            "external_id": "SCF-9",
            "name": "Silk Scarf",
            "variants": [{"sku": "SCF-9", "price_minor": 9900, "currency": "AED"}],
        },
    ]
    answer = client.post("/api/v1/products/batch", {"products": products})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["external_id"], r["result"]) for r in results] == [
        ("ABY-1", "created"),
        ("BAD", "invalid"),
        ("SCF-9", "created"),
    ]
    assert results[1]["errors"] == [{"pointer": "/products/1/name", "detail": "This field may not be blank."}]
    assert sorted(Product.objects.values_list("external_id", flat=True)) == ["ABY-1", "SCF-9"]
    again = client.post("/api/v1/products/batch", {"products": [products[0], products[2]]}).json()["results"]
    assert [r["result"] for r in again] == ["unchanged", "unchanged"]


def test_a_batch_item_that_is_not_an_object_refuses_the_batch_whole(client):
    answer = client.post("/api/v1/products/batch", {"products": [{"external_id": "ABY-1", **abaya()}, "ABY-2"]})
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/products/1"
    assert not Product.objects.exists()


def test_a_blank_updated_since_is_refused_not_ignored(client):
    answer = client.get("/api/v1/products", {"updated_since": ""})
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/updated_since"


def test_a_batch_of_1001_products_is_refused_whole(client):
    products = [
        {"external_id": f"P{i}", "name": "P", "variants": [{"sku": f"S{i}", "price_minor": 1, "currency": "AED"}]}
        for i in range(1001)
    ]
    answer = client.post("/api/v1/products/batch", {"products": products})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "/products"
    assert not Product.objects.exists()


def test_get_shows_on_hand_as_of_and_the_one_available(client, account):
    client.put("/api/v1/products/ABY-1", abaya())
    variant = Variant.objects.get(sku="ABY-M")
    as_of = timezone.now() - timedelta(minutes=5)
    Variant.objects.filter(pk=variant.pk).update(on_hand=4, on_hand_as_of=as_of)
    now = timezone.now()
    stock.stock_hold(holder="order:A", wanted={variant.pk: 1}, held_until=now + timedelta(minutes=30), now=now)
    shown = {v["sku"]: v for v in client.get("/api/v1/products/ABY-1").json()["variants"]}
    assert (
        (shown["ABY-M"]["on_hand"], shown["ABY-M"]["available"]) == (4, stock.available_one(variant=variant)) == (4, 3)
    )
    assert shown["ABY-M"]["as_of"] == as_of.isoformat().replace("+00:00", "Z")


def test_list_pages_with_a_cursor_and_filters_by_updated_since(client, account):
    for n in range(3):
        client.put(f"/api/v1/products/P{n}", abaya(variants=[{"sku": f"S{n}", "price_minor": 1, "currency": "AED"}]))
    first = client.get("/api/v1/products", {"limit": 2}).json()
    assert [p["external_id"] for p in first["results"]] == ["P0", "P1"]
    assert [p["external_id"] for p in client.get(first["next"]).json()["results"]] == ["P2"]

    mark = timezone.now()
    Product.objects.update(updated_at=mark - timedelta(minutes=1))
    Variant.objects.update(updated_at=mark - timedelta(minutes=1))
    client.post("/api/v1/stock", {"levels": [{"sku": "S1", "on_hand": 7, "as_of": timezone.now().isoformat()}]})
    since = client.get("/api/v1/products", {"updated_since": mark.isoformat()}).json()["results"]
    assert [p["external_id"] for p in since] == ["P1"]


def test_delete_archives_the_product_and_its_variants_and_says_so_once(
    client, account, django_capture_on_commit_callbacks
):
    client.put("/api/v1/products/ABY-1", abaya())
    with django_capture_on_commit_callbacks() as pushes:
        assert client.delete("/api/v1/products/ABY-1").json() == {"external_id": "ABY-1", "result": "archived"}
    assert len(pushes) == 1
    assert not Product.objects.get().active and not Variant.objects.filter(active=True).exists()
    assert client.delete("/api/v1/products/ABY-1").json()["result"] == "unchanged"
    assert client.put("/api/v1/products/ABY-1", abaya()).json()["result"] == "updated"  # back on sale
    assert Variant.objects.filter(active=True).count() == 2


@pytest.mark.parametrize(
    ("method", "path", "needs"),
    [
        ("get", "/api/v1/products", "catalog:read"),
        ("get", "/api/v1/products/ABY-1", "catalog:read"),
        ("put", "/api/v1/products/ABY-1", "catalog:write"),
        ("delete", "/api/v1/products/ABY-1", "catalog:write"),
        ("post", "/api/v1/products/batch", "catalog:write"),
        ("post", "/api/v1/stock", "catalog:write"),
    ],
)
def test_each_operation_needs_its_scope(api_client_factory, account, method, path, needs):
    VariantFactory(product__category__business_account=account, product__external_id="ABY-1")
    other_scope = "catalog:write" if needs == "catalog:read" else "catalog:read"
    refused = getattr(api_client_factory(scopes=[other_scope]), method)(path, {})
    assert refused.status_code == 403
    allowed = getattr(api_client_factory(scopes=[needs]), method)(path, {})
    assert allowed.status_code != 403


def test_a_key_limited_to_another_account_sees_nothing_and_changes_nothing(api_client_factory, client, account):
    client.put("/api/v1/products/ABY-1", abaya())
    snapshot = list(Variant.objects.order_by("pk").values()), list(Product.objects.values())
    stranger = api_client_factory(scopes=READ + WRITE, accounts=[BusinessAccountFactory()])
    assert stranger.get("/api/v1/products/ABY-1").status_code == 404
    assert stranger.get("/api/v1/products").json()["results"] == []
    assert stranger.delete("/api/v1/products/ABY-1").status_code == 404
    named = stranger.put("/api/v1/products/ABY-1", abaya(account=account.waba_id))
    assert named.status_code == 404
    batch = stranger.post(
        "/api/v1/products/batch", {"products": [{"external_id": "ABY-1", **abaya(account=account.waba_id)}]}
    )
    assert batch.json()["results"][0]["result"] == "invalid"
    levels = [{"sku": "ABY-M", "on_hand": 0, "as_of": timezone.now().isoformat(), "account": account.waba_id}]
    assert stranger.post("/api/v1/stock", {"levels": levels}).status_code == 404
    unnamed = [{"sku": "ABY-M", "on_hand": 0, "as_of": timezone.now().isoformat()}]
    assert stranger.post("/api/v1/stock", {"levels": unnamed}).json()["results"][0]["result"] == "unknown_sku"
    assert (list(Variant.objects.order_by("pk").values()), list(Product.objects.values())) == snapshot
