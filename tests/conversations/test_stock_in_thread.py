"""What the thread offers is catalog's available stock: held units are not offered to anyone else."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Variant
from catalog.services import catalog_upsert
from checkout import payments, stripe_client
from checkout.models import Order, PaymentLink
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory, feed_item
from tests.channels.factories import PhoneNumberFactory
from tests.support.chat import Chat, body, buttons, rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def number():
    return PhoneNumberFactory(verified_name="Layla Boutique")


@pytest.fixture
def kaftan(number):
    """An evening kaftan: four in M, the last one in L."""
    category = CategoryFactory(business_account=number.business_account, name="Kaftans")
    product = ProductFactory(category=category, name="Evening Kaftan")
    return {
        size: VariantFactory(
            product=product,
            sku=f"KFT-{size}",
            attributes={"size": size},
            price_minor=680_00,
            on_hand=on_hand,
            on_hand_as_of=timezone.now() - timedelta(hours=1),
        )
        for size, on_hand in (("M", 4), ("L", 1))
    }


def card(chat, kaftan) -> str:
    return body(chat.taps(f"prod:{kaftan['M'].product_id}")[0])


def test_the_last_unit_held_by_one_customer_is_not_offered_to_another(number, kaftan):
    amal, noor = Chat(number, "971501110001", "Amal"), Chat(number, "971501110002", "Noor")
    noor.picks(f"add:{kaftan['L'].pk}")  # in Noor's cart before anyone checked out
    amal.picks(f"add:{kaftan['L'].pk}")
    amal.taps("checkout")
    assert Order.objects.get().contact == amal.thread.contact

    assert "L: 680.00 AED (sold out)" in card(noor, kaftan)
    assert [row[0] for row in rows(noor.taps(f"opts:{kaftan['M'].product_id}")[0])] == [f"add:{kaftan['M'].pk}"]
    assert "sold out" in body(noor.picks(f"add:{kaftan['L'].pk}")[0])
    refused = body(noor.taps("checkout")[0])
    assert "nothing in your cart that can be bought" in refused and "not available now (sold out)" in refused
    assert Order.objects.count() == 1

    assert "L: 680.00 AED (1 left)" in card(amal, kaftan)  # what Amal holds is hers
    assert "not available" not in body(amal.taps("cart")[0])


def test_n_left_counts_what_other_customers_hold(number, kaftan):
    amal, noor = Chat(number, "971501110001", "Amal"), Chat(number, "971501110002", "Noor")
    amal.picks(f"add:{kaftan['M'].pk}")
    amal.picks(f"add:{kaftan['M'].pk}")
    amal.taps("checkout")
    assert "M: 680.00 AED (2 left)" in card(noor, kaftan)
    assert [b[0] for b in buttons(amal.taps("back")[0])][0] == "checkout"  # Amal lets go of the order
    assert "M: 680.00 AED (4 left)" in card(noor, kaftan)


def test_a_sold_unit_is_not_offered_again_by_a_level_the_system_of_record_took_before_the_sale(number, kaftan):
    amal, noor = Chat(number, "971501110001", "Amal"), Chat(number, "971501110002", "Noor")
    amal.picks(f"add:{kaftan['L'].pk}")
    amal.taps("checkout")
    link = PaymentLink.objects.get(order=Order.objects.get())
    paid = stripe_client.CheckoutSession(
        id="cs_test_1",
        url=None,
        status="complete",
        payment_status="paid",
        expires_at=link.expires_at,
        amount_total=680_00,
        currency="aed",
        payment_intent_id="pi_test_1",
    )
    exported = timezone.now()
    payments.session_paid_apply(link_id=link.pk, session=paid, now=timezone.now())
    # The ERP's feed, exported just before the sale, still says one is on hand.
    product = kaftan["L"].product
    catalog_upsert(
        business_account=number.business_account,
        source="feed:test",
        now=timezone.now(),
        full=False,
        items=[
            feed_item(
                "KFT-L",
                product_id=product.external_id,
                name=product.name,
                category="Kaftans",
                price="680.00",
                stock=1,
                attributes={"size": "L"},
                stock_as_of=exported.isoformat(),
            )
        ],
    )
    assert Variant.objects.get(pk=kaftan["L"].pk).on_hand == 1
    assert "L: 680.00 AED (sold out)" in card(noor, kaftan)
    # A level taken after the sale is the system of record's word: it knows of the sale.
    catalog_upsert(
        business_account=number.business_account,
        source="feed:test",
        now=timezone.now(),
        full=False,
        items=[
            feed_item(
                "KFT-L",
                product_id=product.external_id,
                name=product.name,
                category="Kaftans",
                price="680.00",
                stock=1,
                attributes={"size": "L"},
            )
        ],
    )
    assert "L: 680.00 AED (1 left)" in card(noor, kaftan)
