"""The catalog admin: products with their variants, feeds with a sync action, runs read-only."""

import pytest
from django.forms import modelform_factory
from django.urls import reverse

from catalog import tasks
from catalog.admin import VariantForm
from catalog.demo_data import demo_catalog_seed
from catalog.models import Product, SyncRun, Variant
from tests.catalog.factories import FeedSourceFactory, VariantFactory
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


def test_the_product_page_shows_variants_with_formatted_prices(admin_client):
    demo_catalog_seed(business_account=BusinessAccountFactory())
    product = Product.objects.get(external_id="ABY-LINEN")
    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    assert "ABY-LINEN-SND-M" in page and "275.50 AED" in page


def test_every_catalog_list_page_renders(admin_client):
    demo_catalog_seed(business_account=BusinessAccountFactory())
    FeedSourceFactory()
    for model in ("shop", "category", "product", "feedsource", "syncrun", "metapush"):
        assert admin_client.get(reverse(f"admin:catalog_{model}_changelist")).status_code == 200


def test_sync_now_queues_the_selected_feeds(admin_client, monkeypatch):
    feed = FeedSourceFactory()
    queued = []
    monkeypatch.setattr(tasks.sync_feed, "delay", queued.append)
    admin_client.post(
        reverse("admin:catalog_feedsource_changelist"),
        {"action": "sync_now", "_selected_action": [feed.pk]},
    )
    assert queued == [feed.pk]


def test_sync_runs_are_read_only(admin_client):
    run = demo_catalog_seed(business_account=BusinessAccountFactory())
    assert admin_client.get(reverse("admin:catalog_syncrun_add")).status_code == 403
    response = admin_client.post(reverse("admin:catalog_syncrun_change", args=[run.pk]), {"source": "x"})
    assert response.status_code == 403
    assert SyncRun.objects.get().source == "demo"


def test_a_sku_taken_in_the_same_account_is_refused_by_the_variant_form_not_by_the_database():
    taken = VariantFactory(sku="ABY-M")
    sibling = VariantFactory(product=taken.product, sku="ABY-L")
    elsewhere = VariantFactory(sku="SCF-1")
    form_class = modelform_factory(Variant, form=VariantForm, fields=["sku"])
    assert form_class(data={"sku": "ABY-M"}, instance=sibling).errors == {
        "sku": ["Another variant of this business account has this SKU."]
    }
    assert form_class(data={"sku": "ABY-M"}, instance=elsewhere).is_valid()  # another account's SKU
