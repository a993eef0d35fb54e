import pytest

from catalog.selectors import categories_for, products_in, variant_by_retailer_id
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_products_in_pages_past_ten_rows():
    category = CategoryFactory()
    for _ in range(23):
        VariantFactory(product=ProductFactory(category=category))
    first, third = products_in(category=category, page=1), products_in(category=category, page=3)
    assert len(first.items) == 10 and first.has_more
    assert len(third.items) == 3 and not third.has_more
    second = products_in(category=category, page=2)
    assert not {p.pk for p in first.items} & {p.pk for p in second.items}


def test_products_in_skips_inactive_products_and_those_without_active_variants():
    category = CategoryFactory()
    VariantFactory(product=ProductFactory(category=category, active=False))
    VariantFactory(product=ProductFactory(category=category), active=False)
    shown = VariantFactory(product=ProductFactory(category=category)).product
    assert products_in(category=category, page=1).items == [shown]


def test_categories_for_lists_only_the_shops_categories_with_products():
    variant = VariantFactory()
    account = variant.product.business_account
    CategoryFactory(business_account=account)  # empty
    VariantFactory()  # another shop
    assert list(categories_for(business_account=account)) == [variant.product.category]


def test_variant_by_retailer_id_is_scoped_to_the_shop():
    variant = VariantFactory(meta_retailer_id="rid-1")
    account = variant.product.business_account
    assert variant_by_retailer_id(business_account=account, retailer_id="rid-1") == variant
    other = VariantFactory().product.business_account
    assert variant_by_retailer_id(business_account=other, retailer_id="rid-1") is None
