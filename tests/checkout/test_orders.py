"""Orders: placed at live prices with stock held, every status change recorded, the last unit sold once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import StockReservation, Variant
from catalog.stock import available_one
from checkout import services
from checkout.models import LinkStatus, Order, OrderChange, OrderStatus, PaymentLink
from checkout.services import CheckoutRefusal, PricesChanged
from tests.catalog.factories import VariantFactory
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import place
from tests.contacts.factories import ContactFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

S = OrderStatus


@pytest.mark.django_db
def test_an_order_copies_sku_name_quantity_and_price_and_holds_the_stock():
    variant = VariantFactory(
        sku="ABY-M", product__name="Linen Abaya", attributes={"size": "M"}, price_minor=320_00, on_hand=3
    )
    order, link = place(variant, 2, seen=640_00)
    line = order.lines.get()
    assert (line.sku, line.name, line.quantity, line.unit_price_minor, line.line_total_minor) == (
        "ABY-M",
        "Linen Abaya M",
        2,
        320_00,
        640_00,
    )
    assert (order.total_minor, order.currency, order.status) == (640_00, "AED", S.PENDING_PAYMENT)
    assert available_one(variant=variant) == 1
    assert link.status == LinkStatus.ISSUING and link.idempotency_key == f"waco-order-{order.reference}-attempt-1"
    assert timedelta(minutes=39) < link.expires_at - timezone.now() <= timedelta(minutes=40)
    reservation = StockReservation.objects.get()
    assert (reservation.holder, reservation.held_until) == (f"order:{order.reference}", link.expires_at)
    Variant.objects.filter(pk=variant.pk).update(price_minor=1)
    assert order.lines.get().unit_price_minor == 320_00  # the order keeps what the customer agreed to


@pytest.mark.django_db
def test_placing_an_order_records_utility_consent_from_checkout():
    contact = ContactFactory()
    order, _ = place(VariantFactory(), contact=contact)
    entry = contacts.consent_current(contact=contact, category=ConsentCategory.UTILITY)
    assert (entry.action, entry.source, entry.reference) == (
        ConsentAction.OPT_IN,
        ConsentSource.CHECKOUT,
        f"order:{order.reference}",
    )


@pytest.mark.django_db
def test_a_total_that_changed_since_the_customer_saw_it_is_refused_with_the_new_total():
    variant = VariantFactory(price_minor=330_00)
    with pytest.raises(PricesChanged) as refused:
        place(variant, seen=320_00)
    assert (refused.value.total_minor, refused.value.currency) == (330_00, "AED")
    assert not Order.objects.exists() and not StockReservation.objects.exists()


@pytest.mark.django_db
def test_stock_held_by_another_unpaid_order_cannot_be_sold_twice():
    variant = VariantFactory(on_hand=1)
    place(variant)
    with pytest.raises(CheckoutRefusal, match="not enough stock"):
        place(variant)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_expired_reservations_no_longer_hold_stock():
    variant = VariantFactory(on_hand=1)
    place(variant)
    StockReservation.objects.update(held_until=timezone.now() - timedelta(seconds=1))
    place(variant)
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_an_inactive_variant_or_an_empty_cart_is_refused():
    with pytest.raises(CheckoutRefusal, match="empty"):
        services.order_place(
            contact=ContactFactory(), phone_number=PhoneNumberFactory(), lines=[], seen_total_minor=None
        )
    with pytest.raises(CheckoutRefusal, match="not enough stock"):
        place(VariantFactory(active=False))


@pytest.mark.django_db(transaction=True)
def test_the_last_unit_raced_by_two_customers_goes_to_one():
    variant = VariantFactory(on_hand=1)
    numbers = PhoneNumberFactory(), PhoneNumberFactory()
    customers = ContactFactory(), ContactFactory()
    barrier, outcomes = threading.Barrier(2), []

    def buy(contact, number):
        try:
            barrier.wait()
            place(variant, contact=contact, number=number)
            outcomes.append("won")
        except CheckoutRefusal:
            outcomes.append("refused")
        finally:
            connection.close()

    racers = [threading.Thread(target=buy, args=pair) for pair in zip(customers, numbers, strict=True)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    assert sorted(outcomes) == ["refused", "won"]
    assert StockReservation.objects.get().quantity == 1


ALLOWED = [
    (S.PENDING_PAYMENT, "pay", S.PAID),
    (S.EXPIRED, "pay", S.PAID),  # Stripe took the money after the link ran out: the money wins
    (S.PENDING_PAYMENT, "expire", S.EXPIRED),
    (S.PAID, "pack", S.PACKED),
    (S.PACKED, "ship", S.SHIPPED),
    (S.SHIPPED, "out_for_delivery", S.OUT_FOR_DELIVERY),
    (S.SHIPPED, "deliver", S.DELIVERED),
    (S.OUT_FOR_DELIVERY, "deliver", S.DELIVERED),
    (S.PENDING_PAYMENT, "cancel", S.CANCELLED),
    (S.PAID, "cancel", S.CANCELLED),
    (S.PACKED, "cancel", S.CANCELLED),
    (S.PAID, "refund", S.REFUNDED),
    (S.DELIVERED, "refund", S.REFUNDED),
    (S.CANCELLED, "refund", S.REFUNDED),
    (S.EXPIRED, "refund", S.REFUNDED),  # paid after the link closed, the stock gone: the money goes back
]
REFUSED = [
    (S.PAID, "pay"),  # paid once
    (S.PENDING_PAYMENT, "pack"),  # nothing is packed before it is paid
    (S.PAID, "ship"),
    (S.SHIPPED, "cancel"),  # on its way: refund instead
    (S.DELIVERED, "out_for_delivery"),
    (S.PENDING_PAYMENT, "refund"),
    (S.REFUNDED, "refund"),
    (S.PAID, "expire"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("source, name, target", ALLOWED, ids=str)
def test_each_allowed_order_transition_is_applied_and_recorded(source, name, target):
    order, _ = place(VariantFactory())
    Order.objects.filter(pk=order.pk).update(status=source)
    changed = services.order_transition(order=order, name=name, cause="staff", detail="test")
    assert changed.status == target
    change = OrderChange.objects.filter(order=order).last()
    assert (change.transition, change.from_state, change.to_state, change.cause) == (name, source, target, "staff")


@pytest.mark.django_db
@pytest.mark.parametrize("source, name", REFUSED, ids=str)
def test_each_refused_order_transition_changes_nothing(source, name):
    order, _ = place(VariantFactory())
    Order.objects.filter(pk=order.pk).update(status=source)
    before = OrderChange.objects.count()
    with pytest.raises(services.OrderTransitionRefused, match="cannot be"):
        services.order_transition(order=order, name=name, cause="staff")
    assert Order.objects.get(pk=order.pk).status == source and OrderChange.objects.count() == before


@pytest.mark.django_db
def test_a_second_attempt_keeps_holding_the_stock_until_its_own_expiry():
    variant = VariantFactory(on_hand=1)
    order, first = place(variant)
    PaymentLink.objects.filter(pk=first.pk).update(status=LinkStatus.FAILED)
    second = services.payment_link_open(order=order, now=timezone.now() + timedelta(minutes=5))
    assert second.attempt == 2
    assert StockReservation.objects.get().held_until == second.expires_at
