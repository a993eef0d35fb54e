import pytest

from catalog.demo_data import demo_catalog_seed
from catalog.models import Category, Product, SyncStatus, Variant
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seed_looks_like_a_real_shop():
    account = BusinessAccountFactory()
    run = demo_catalog_seed(business_account=account)
    assert run.status == SyncStatus.SUCCEEDED and run.error_count == 0
    assert 4 <= Category.objects.filter(business_account=account).count() <= 5
    assert Product.objects.filter(business_account=account).count() >= 15
    assert Variant.objects.filter(on_hand=0).exists()
    assert set(Variant.objects.values_list("currency", flat=True)) == {"AED"}
    assert all(v.image_url.startswith("/static/catalog/demo/") for v in Variant.objects.all())


def test_the_demo_seed_is_idempotent():
    account = BusinessAccountFactory()
    first = demo_catalog_seed(business_account=account)
    second = demo_catalog_seed(business_account=account)
    assert second.unchanged == first.created and second.created == second.updated == 0
    assert Variant.objects.count() == first.created


def test_demo_images_exist_as_static_files():
    from django.contrib.staticfiles import finders

    for name in ("abaya", "scarf", "kaftan", "bag", "perfume"):
        assert finders.find(f"catalog/demo/{name}.png")
