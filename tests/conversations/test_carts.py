"""The cart never lies: totals from live prices, no more than the stock."""

import pytest

from catalog.models import Variant
from conversations import carts
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.conversations.factories import ThreadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def abaya():
    product = ProductFactory(name="Linen Abaya")
    return (
        VariantFactory(
            product=product, sku="AB-M", attributes={"size": "M"}, price_minor=32050, currency="AED", on_hand=5
        ),
        VariantFactory(
            product=product, sku="AB-L", attributes={"size": "L"}, price_minor=34000, currency="AED", on_hand=0
        ),
    )


def test_two_variants_make_a_total_from_live_prices(abaya):
    medium, _ = abaya
    other = VariantFactory(sku="SCARF", price_minor=9900, currency="AED", on_hand=10)
    thread = ThreadFactory()
    carts.cart_line_add(thread=thread, variant=medium, quantity=2)
    carts.cart_line_add(thread=thread, variant=other)
    summary = carts.cart_summary(thread=thread)
    assert summary.total_minor == 2 * 32050 + 9900
    assert summary.total_display == "740.00 AED"


def test_a_price_change_between_two_summaries_shows_the_new_price(abaya):
    medium, _ = abaya
    thread = ThreadFactory()
    carts.cart_line_add(thread=thread, variant=medium)
    assert carts.cart_summary(thread=thread).total_minor == 32050
    Variant.objects.filter(pk=medium.pk).update(price_minor=29900)
    assert carts.cart_summary(thread=thread).total_minor == 29900


def test_an_out_of_stock_variant_cannot_be_added(abaya):
    _, large = abaya
    with pytest.raises(carts.CartRefusal, match="Linen Abaya L is sold out"):
        carts.cart_line_add(thread=ThreadFactory(), variant=large)


def test_no_more_than_the_stock_across_several_adds(abaya):
    medium, _ = abaya
    thread = ThreadFactory()
    carts.cart_line_add(thread=thread, variant=medium, quantity=4)
    with pytest.raises(carts.CartRefusal, match="only 5"):
        carts.cart_line_add(thread=thread, variant=medium, quantity=2)
    assert carts.cart_summary(thread=thread).lines[0].quantity == 4


def test_a_line_that_sold_out_since_it_was_added_is_shown_and_left_out_of_the_total(abaya):
    medium, _ = abaya
    thread = ThreadFactory()
    carts.cart_line_add(thread=thread, variant=medium, quantity=2)
    Variant.objects.filter(pk=medium.pk).update(on_hand=1)
    summary = carts.cart_summary(thread=thread)
    assert [line.variant.sku for line in summary.unavailable] == ["AB-M"]
    assert summary.total_minor == 0


def test_removing_a_line(abaya):
    medium, _ = abaya
    thread = ThreadFactory()
    carts.cart_line_add(thread=thread, variant=medium)
    assert carts.cart_line_remove(thread=thread, variant=medium)
    assert carts.cart_summary(thread=thread).lines == []
