"""Staff see a product with its variants, prices shown in the shop's currency."""

import os

import pytest
from django.contrib.auth import get_user_model

from tests.catalog.factories import ProductFactory, VariantFactory
from tests.support.browser import screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def test_a_product_page_lists_its_variants_with_formatted_prices(page, live_server, staff):
    product = ProductFactory(name="Linen Abaya")
    VariantFactory(product=product, sku="ABAYA-M-SAND", price_minor=32050, currency="AED", on_hand=3)
    VariantFactory(product=product, sku="ABAYA-L-SAND", price_minor=32050, currency="AED", on_hand=0)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/catalog/product/{product.pk}/change/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("text=ABAYA-M-SAND")
    screenshot(page, "admin-catalog-product")

    content = page.content()
    assert "Linen Abaya" in page.input_value("#id_name")
    assert content.count("320.50 AED") == 2
    assert "ABAYA-L-SAND" in content
