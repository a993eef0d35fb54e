"""Fulfilment events through checkout.fulfilment: the order moves, the customer is told (free-form in
the window, the order_update template outside it), and what does not fit changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import StockReservation
from checkout import stripe_client
from checkout.fulfilment import FulfilmentRefused, fulfilment_apply
from checkout.models import LinkStatus, Order, OrderChange, OrderStatus, Refund, RefundStatus
from conversations import order_updates
from conversations.models import ThreadState, ThreadTransition
from outbound.models import MessageStatus, OutboundMessage
from outbound.selectors import messages_about
from templates_lib.models import TemplateStatus
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import OrderFactory, PaymentLinkFactory, approved_chain, paid_order, utility_consent
from tests.conversations.factories import ThreadFactory
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db
TRACK = "https://track.example/DHL123"
# Each event, the status it is applied from, what the call needs and where the order ends
# (a paid order that is cancelled is refunded in full, so it ends refunded).
EVENTS = [
    ("packed", OrderStatus.PAID, {}, OrderStatus.PACKED),
    ("shipped", OrderStatus.PACKED, {"carrier": "DHL", "tracking_url": TRACK}, OrderStatus.SHIPPED),
    ("out_for_delivery", OrderStatus.SHIPPED, {}, OrderStatus.OUT_FOR_DELIVERY),
    ("delivered", OrderStatus.OUT_FOR_DELIVERY, {}, OrderStatus.DELIVERED),
    ("cancelled", OrderStatus.PACKED, {"reason": "the size is sold out"}, OrderStatus.REFUNDED),
    ("refunded", OrderStatus.DELIVERED, {}, OrderStatus.REFUNDED),
]


def order_at(status, **kwargs):
    order = paid_order(**kwargs)
    shipped = status in (OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED)
    Order.objects.filter(pk=order.pk).update(
        status=status, carrier="DHL" if shipped else "", tracking_url=TRACK if shipped else ""
    )
    ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_FULFILLMENT)
    return Order.objects.get(pk=order.pk)


def window(order, *, hours_ago: float) -> None:
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(hours=hours_ago)
    )


def told(order, status) -> OutboundMessage:
    return OutboundMessage.objects.get(dedupe_key=f"order_update:{order.pk}:{status}")


def apply(order, event, **kwargs):
    return fulfilment_apply(order=order, event=event, by="staff", by_name="layla", **kwargs)


@pytest.mark.parametrize(("event", "source", "extra", "final"), EVENTS, ids=[e[0] for e in EVENTS])
def test_each_event_in_the_window_moves_the_order_and_is_told_free_form(stripe, event, source, extra, final):
    order = order_at(source)
    window(order, hours_ago=1)
    assert apply(order, event, **extra).status == final
    change = OrderChange.objects.filter(order=order).first()
    assert (change.from_state, change.to_state, change.cause) == (source, event, "staff")
    assert "by layla" in change.detail
    message = told(order, event)
    assert (message.status, message.category, message.purpose) == (MessageStatus.QUEUED, "utility", "order_update")
    assert message.template_name == "" and message.content["type"] == "text"
    assert order.reference in message.content["text"]["body"]


@pytest.mark.parametrize(("event", "source", "extra", "final"), EVENTS, ids=[e[0] for e in EVENTS])
def test_each_event_outside_the_window_goes_as_the_order_update_template(stripe, event, source, extra, final):
    order = order_at(source)
    window(order, hours_ago=30)
    approved_chain(order.business_account, "order_update", "order_update_v1")
    apply(order, event, **extra)
    message = told(order, event)
    assert message.status == MessageStatus.QUEUED and message.template_name == "order_update_v1"
    params = {p["parameter_name"]: p["text"] for p in message.content["template"]["components"][0]["parameters"]}
    assert params["order_ref"] == order.reference and params["customer"] == "Amal"
    assert params["status"] == OrderStatus(event).label.lower()


def test_shipped_outside_the_window_quotes_carrier_and_tracking_url(stripe):
    order = order_at(OrderStatus.PACKED)
    approved_chain(order.business_account, "order_update", "order_update_v1")
    apply(order, "shipped", carrier="Aramex", tracking_url="https://aramex.example/t/42")
    params = told(order, "shipped").template_params
    assert params["detail"] == "Carrier: Aramex. Track it here: https://aramex.example/t/42"


def test_a_paused_first_template_falls_back_to_the_next_in_the_chain(stripe):
    order = order_at(OrderStatus.PAID)
    first, _ = approved_chain(order.business_account, "order_update", "order_update_v1", "order_update_v2")
    first.status = TemplateStatus.PAUSED
    first.save(update_fields=["status"])
    apply(order, "packed")
    assert told(order, "packed").template_name == "order_update_v2"


def test_outside_the_window_without_a_usable_template_the_update_fails_visibly(stripe):
    order = order_at(OrderStatus.PAID)
    apply(order, "packed")
    message = told(order, "packed")
    assert message.status == MessageStatus.FAILED and message.needs_person
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED  # the order still moved


REFUSED = [
    (OrderStatus.PENDING_PAYMENT, "packed", {}, "is waiting for payment: it cannot be packed"),
    (OrderStatus.PAID, "shipped", {"carrier": "DHL", "tracking_url": TRACK}, "is paid: it cannot be shipped"),
    (OrderStatus.SHIPPED, "packed", {}, "is shipped: it cannot be packed"),
    (OrderStatus.PAID, "delivered", {}, "is paid: it cannot be delivered"),
    (OrderStatus.SHIPPED, "cancelled", {"reason": "changed my mind"}, "is shipped: it cannot be cancelled"),
    (OrderStatus.REFUNDED, "refunded", {}, "is refunded: it cannot be refunded"),
    (OrderStatus.PACKED, "shipped", {"carrier": "", "tracking_url": TRACK}, "needs the carrier"),
    (OrderStatus.PACKED, "shipped", {"carrier": "DHL", "tracking_url": "javascript:alert(1)"}, "tracking URL"),
    (OrderStatus.PACKED, "shipped", {"carrier": "DHL", "tracking_url": "ftp://track.example/1"}, "tracking URL"),
    (OrderStatus.PAID, "cancelled", {"reason": "  "}, "needs a reason"),
    (OrderStatus.DELIVERED, "refunded", {"amount_minor": 640_01}, "At most 640.00 AED can be refunded"),
    (OrderStatus.DELIVERED, "refunded", {"amount_minor": 0}, "more than zero"),
    (OrderStatus.PAID, "returned", {}, "unknown fulfilment event"),
]


@pytest.mark.parametrize(("source", "event", "extra", "error"), REFUSED, ids=[f"{r[1]}-from-{r[0]}" for r in REFUSED])
def test_an_event_that_does_not_fit_is_refused_and_changes_nothing(stripe, source, event, extra, error):
    order = order_at(source)
    before = Order.objects.values().get(pk=order.pk)
    changes = OrderChange.objects.count()
    with pytest.raises(FulfilmentRefused) as refused:
        apply(order, event, **extra)
    assert error in refused.value.message
    assert Order.objects.values().get(pk=order.pk) == before
    assert OrderChange.objects.count() == changes
    assert not OutboundMessage.objects.exists() and not Refund.objects.exists() and stripe.refunds == []


def test_a_pending_order_cannot_be_refunded_it_has_no_payment(stripe):
    order = OrderFactory(status=OrderStatus.CANCELLED)
    with pytest.raises(FulfilmentRefused, match="has no Stripe payment to refund"):
        apply(order, "refunded")


def test_a_partial_refund_goes_through_stripe_once_and_is_recorded(stripe):
    order = order_at(OrderStatus.DELIVERED)
    window(order, hours_ago=1)
    updated = apply(order, "refunded", amount_minor=100_00)
    assert updated.status == OrderStatus.REFUNDED
    key = f"waco-refund-{order.reference}-10000-try1"
    assert stripe.refunds == [(f"pi_test_{order.reference}", 100_00, key)]
    refund = Refund.objects.get()
    assert (refund.amount_minor, refund.status, refund.stripe_refund_id, refund.requested_by) == (
        100_00,
        RefundStatus.SUCCEEDED,
        f"re_{key}",
        "layla",
    )
    assert "We refunded 100.00 AED" in told(order, "refunded").content["text"]["body"]
    assert ThreadTransition.objects.get(transition="close_order").cause == "fulfilment"


def test_a_refund_stripe_could_not_confirm_is_repeated_with_the_same_key(stripe):
    order = order_at(OrderStatus.DELIVERED)
    stripe.fail = stripe_client.StripeTransientError("APIConnectionError: timed out")
    with pytest.raises(FulfilmentRefused, match="Stripe could not be reached"):
        apply(order, "refunded")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    with pytest.raises(FulfilmentRefused, match="still unresolved: repeat it with that amount"):
        apply(order, "refunded", amount_minor=10_00)
    apply(order, "refunded", amount_minor=640_00)
    assert [call[2] for call in stripe.refunds] == [f"waco-refund-{order.reference}-64000-try1"] * 2
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_a_refund_stripe_refuses_changes_nothing_and_the_next_try_has_a_new_key(stripe):
    order = order_at(OrderStatus.DELIVERED)
    stripe.fail = stripe_client.StripePermanentError("InvalidRequestError: charge disputed")
    with pytest.raises(FulfilmentRefused, match="Stripe refused the refund: InvalidRequestError"):
        apply(order, "refunded")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert Refund.objects.get().status == RefundStatus.FAILED and not OutboundMessage.objects.exists()
    apply(order, "refunded")
    assert stripe.refunds[1][2] == f"waco-refund-{order.reference}-64000-try2"


def test_cancelling_a_paid_order_refunds_it_in_full_and_tells_the_customer_both(stripe):
    order = order_at(OrderStatus.PAID)
    window(order, hours_ago=1)
    updated = apply(order, "cancelled", reason="the size is sold out")
    assert updated.status == OrderStatus.REFUNDED and updated.cancel_reason == "the size is sold out"
    assert [c.transition for c in OrderChange.objects.filter(order=order)] == ["cancel", "refund"]
    assert stripe.refunds[0][1] == 640_00
    cancelled = told(order, "cancelled").content["text"]["body"]
    assert "Reason: the size is sold out" in cancelled and "being refunded" in cancelled
    assert "We refunded 640.00 AED" in told(order, "refunded").content["text"]["body"]
    assert ThreadTransition.objects.filter(transition="close_order").count() == 1


def test_cancelling_an_unpaid_order_closes_its_stripe_page_frees_the_stock_and_says_nothing_was_charged(stripe):
    order = OrderFactory()
    utility_consent(order.contact)
    link = PaymentLinkFactory(order=order)
    variant = VariantFactory(on_hand=5)
    StockReservation.objects.create(
        holder=f"order:{order.reference}", variant=variant, quantity=2, held_until=link.expires_at
    )
    thread = ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_PAYMENT)
    window(order, hours_ago=0.2)
    updated = apply(order, "cancelled", reason="duplicate order")
    assert updated.status == OrderStatus.CANCELLED
    assert stripe.expired == [link.stripe_session_id] and stripe.refunds == []
    link.refresh_from_db()
    assert link.status == LinkStatus.EXPIRED
    assert StockReservation.objects.get().released_at is not None
    assert "Nothing was charged" in told(order, "cancelled").content["text"]["body"]
    thread.refresh_from_db()
    assert thread.state == ThreadState.BUILDING_CART


def test_cancelling_an_order_the_customer_has_just_paid_applies_the_payment_instead(stripe):
    order = OrderFactory()
    PaymentLinkFactory(order=order)
    ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_PAYMENT)
    stripe.session_paid = True
    with pytest.raises(FulfilmentRefused, match="has just paid"):
        apply(order, "cancelled", reason="no answer")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_replayed_status_change_tells_the_customer_once(stripe):
    order = order_at(OrderStatus.PAID)
    window(order, hours_ago=1)
    packed = apply(order, "packed")
    order_updates.order_status_changed(sender=Order, order=packed, old="paid", new="packed", cause="staff")
    assert messages_about(subject_type="order", subject_id=order.reference).filter(purpose="order_update").count() == 1


def test_delivered_ends_the_thread_order_so_the_customer_can_shop_again(stripe):
    order = order_at(OrderStatus.SHIPPED)
    window(order, hours_ago=1)
    apply(order, "delivered")
    transition = ThreadTransition.objects.get()
    assert (transition.transition, transition.to_state, transition.cause) == (
        "close_order",
        ThreadState.BROWSING,
        "fulfilment",
    )
