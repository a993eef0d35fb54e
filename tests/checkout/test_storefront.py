"""The order system's operations on orders (checkout.storefront), without HTTP: fulfilment events through
checkout.fulfilment, a repeated event recognised as already applied, and the external reference."""

import threading

import pytest
from django.db import connection

from checkout import storefront
from checkout.fulfilment import EVENTS, FulfilmentNotAllowed, FulfilmentRefused, FulfilmentRetryLater
from checkout.models import Order, OrderChange, OrderStatus, Refund
from checkout.storefront import (
    ExternalReferenceTaken,
    FulfilmentEvent,
    order_event_report,
    order_external_reference_set,
)
from checkout.stripe_client import StripeTransientError
from outbound.models import OutboundMessage
from tests.checkout.factories import OrderFactory, paid_order
from tests.conversations.factories import ThreadFactory
from tests.support.api_world import purposes_seed
from tests.support.orders import TRACK, in_the_window

pytestmark = pytest.mark.django_db
SHIPPED = FulfilmentEvent(name="shipped", carrier="DHL", tracking_url=TRACK)


def report(order, name, **details):
    return order_event_report(order=order, event=FulfilmentEvent(name=name, **details), by_name="shopify")


def messages(order, status) -> int:
    return OutboundMessage.objects.filter(dedupe_key=f"order_update:{order.pk}:{status}").count()


@pytest.fixture
def order(stripe):
    order = paid_order()
    ThreadFactory(contact=order.contact, phone_number=order.phone_number)
    in_the_window(order)
    return order


def test_an_event_moves_the_order_with_the_api_as_its_cause_and_the_key_named(order):
    updated, applied = report(order, "packed")
    assert applied and updated.status == OrderStatus.PACKED
    change = OrderChange.objects.get(order=order, to_state=OrderStatus.PACKED)
    assert (change.cause, change.detail) == ("api", "by shopify")
    assert messages(order, "packed") == 1


def test_the_same_shipment_twice_ships_and_tells_once(order):
    report(order, "packed")
    first, applied = order_event_report(order=order, event=SHIPPED, by_name="shopify")
    again, applied_again = order_event_report(order=order, event=SHIPPED, by_name="shopify")
    assert (applied, applied_again) == (True, False)
    assert again.status == first.status == OrderStatus.SHIPPED
    assert OrderChange.objects.filter(order=order, to_state=OrderStatus.SHIPPED).count() == 1
    assert messages(order, "shipped") == 1


def test_a_late_retry_of_an_earlier_event_is_already_applied(order):
    report(order, "packed")
    order_event_report(order=order, event=SHIPPED, by_name="shopify")
    updated, applied = report(order, "packed")
    assert not applied and updated.status == OrderStatus.SHIPPED


def test_a_duplicate_that_raced_past_the_check_is_recognised_when_the_transition_refuses_it(order, monkeypatch):
    report(order, "packed")
    order_event_report(order=order, event=SHIPPED, by_name="shopify")
    stale_looks = [False]  # the first look happened before the other request committed
    real_check = storefront.event_already_applied
    monkeypatch.setattr(
        storefront, "event_already_applied", lambda o, e: stale_looks.pop() if stale_looks else real_check(o, e)
    )
    updated, applied = order_event_report(order=order, event=SHIPPED, by_name="shopify")
    assert not applied and updated.status == OrderStatus.SHIPPED and messages(order, "shipped") == 1
    assert stale_looks == []


def test_every_fulfilment_event_names_the_status_it_leads_to():
    assert storefront.EVENT_STATUS.keys() == EVENTS.keys()


def test_a_second_shipment_with_other_details_is_refused_not_taken_for_a_retry(order):
    report(order, "packed")
    order_event_report(order=order, event=SHIPPED, by_name="shopify")
    with pytest.raises(FulfilmentNotAllowed, match="is shipped: it cannot be shipped"):
        report(order, "shipped", carrier="Aramex", tracking_url=TRACK)
    assert Order.objects.get(pk=order.pk).carrier == "DHL"


def test_cancelling_a_paid_order_twice_refunds_once_and_tells_once(order, stripe):
    updated, applied = report(order, "cancelled", reason="out of stock")
    again, applied_again = report(order, "cancelled", reason="out of stock")
    assert (applied, applied_again) == (True, False)
    assert updated.status == again.status == OrderStatus.REFUNDED
    assert len(stripe.refunds) == 1 and Refund.objects.count() == 1
    assert (messages(order, "cancelled"), messages(order, "refunded")) == (1, 1)


def test_the_same_refund_twice_moves_the_money_once(order, stripe):
    report(order, "refunded", amount_minor=100_00)
    updated, applied = report(order, "refunded", amount_minor=100_00)
    assert not applied and updated.status == OrderStatus.REFUNDED
    assert [call[1] for call in stripe.refunds] == [100_00]


def test_a_refund_of_another_amount_after_one_is_refused(order, stripe):
    report(order, "refunded", amount_minor=100_00)
    with pytest.raises(FulfilmentNotAllowed, match="is refunded: it cannot be refunded"):
        report(order, "refunded", amount_minor=200_00)
    assert len(stripe.refunds) == 1


def test_an_event_the_status_does_not_allow_is_not_allowed_and_changes_nothing(order):
    with pytest.raises(FulfilmentNotAllowed, match="is paid: it cannot be delivered"):
        report(order, "delivered")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID and not OutboundMessage.objects.exists()


def test_wrong_details_are_refused_but_not_as_a_status_conflict(order):
    with pytest.raises(FulfilmentRefused) as refused:
        report(order, "refunded", amount_minor=999_00)
    assert not isinstance(refused.value, FulfilmentNotAllowed)
    assert "At most 640.00 AED can be refunded" in refused.value.message


def test_stripe_out_of_reach_asks_for_a_retry_that_reaches_the_same_refund(order, stripe):
    stripe.fail = StripeTransientError("APIConnectionError: timed out")
    with pytest.raises(FulfilmentRetryLater):
        report(order, "refunded")
    updated, applied = report(order, "refunded")
    assert applied and updated.status == OrderStatus.REFUNDED
    assert stripe.refunds[0][2] == stripe.refunds[1][2]  # the same idempotency key


def test_an_unpaid_order_is_cancelled_without_stripe_refunds(stripe):
    order = OrderFactory()
    updated, applied = report(order, "cancelled", reason="customer asked")
    assert applied and updated.status == OrderStatus.CANCELLED and stripe.refunds == []
    assert report(order, "cancelled", reason="customer asked") == (Order.objects.get(pk=order.pk), False)


# --- external reference ---------------------------------------------------------------


def test_the_external_reference_is_set_cleared_and_set_again_unchanged(db):
    order = OrderFactory()
    updated, changed = order_external_reference_set(order=order, external_reference=" SHOP-1001 ")
    assert changed and Order.objects.get(pk=order.pk).external_reference == "SHOP-1001"
    assert order_external_reference_set(order=updated, external_reference="SHOP-1001")[1] is False
    order_external_reference_set(order=updated, external_reference="")
    assert Order.objects.get(pk=order.pk).external_reference == ""


def test_an_external_reference_is_unique_within_a_business_account_only(db):
    first = OrderFactory(external_reference="SHOP-1")
    same_account = OrderFactory(phone_number=first.phone_number)
    with pytest.raises(ExternalReferenceTaken) as taken:
        order_external_reference_set(order=same_account, external_reference="SHOP-1")
    assert taken.value.reference == first.reference
    other_account = OrderFactory()
    assert order_external_reference_set(order=other_account, external_reference="SHOP-1")[1]


def test_many_orders_may_have_no_external_reference(db):
    first = OrderFactory()
    second = OrderFactory(phone_number=first.phone_number)
    assert first.external_reference == second.external_reference == ""


# --- concurrent duplicates ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_cancellation_sent_twice_at_once_refunds_once_and_tells_once(stripe):
    purposes_seed()  # a transactional test starts without the data migrations' rows
    order = paid_order()
    ThreadFactory(contact=order.contact, phone_number=order.phone_number)
    in_the_window(order)
    start = threading.Barrier(2)
    answers = []

    def storefront_request():
        try:
            start.wait()
            answers.append(report(order, "cancelled", reason="out of stock")[1])
        finally:
            connection.close()

    requests = [threading.Thread(target=storefront_request) for _ in range(2)]
    for request in requests:
        request.start()
    for request in requests:
        request.join()

    assert len(answers) == 2 and True in answers  # each was answered; at least one did the work
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert Refund.objects.count() == 1 and {call[2] for call in stripe.refunds} == {
        Refund.objects.get().idempotency_key
    }
    assert (messages(order, "cancelled"), messages(order, "refunded")) == (1, 1)
