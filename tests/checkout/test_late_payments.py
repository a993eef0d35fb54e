"""Money on a link Waco closed: found from the link's row, kept when the stock is there, refunded once when not.

In-process with Stripe faked (tests/checkout/conftest.py): in these tests nothing commits, so
the expire task order_abandon queues on commit is never sent, as if the broker had lost it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Variant
from catalog.stock import available_one
from checkout import late_payments, late_refunds, payments, stripe_client
from checkout.models import LinkStatus, Order, OrderStatus, PaymentLink, Refund, RefundStatus
from outbound.models import OutboundMessage
from outbound.selectors import messages_about
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import approved_chain, place
from waco.alerts.models import Alert
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db


def abaya(on_hand: int) -> Variant:
    """Two of these make the 640.00 AED the faked Stripe session says was paid."""
    return VariantFactory(on_hand=on_hand, price_minor=320_00)


def closed_link(variant, quantity=2) -> tuple[Order, PaymentLink]:
    """An order whose link was open at Stripe when the customer went back to the cart."""
    order, link = place(variant, quantity)
    PaymentLink.objects.filter(pk=link.pk).update(
        status=LinkStatus.OPEN, stripe_session_id=f"cs_test_{order.reference}"
    )
    assert payments.order_abandon(order=order, cause="customer")
    return Order.objects.get(pk=order.pk), PaymentLink.objects.get(pk=link.pk)


def beat(now=None) -> int:
    return late_payments.closed_links_recheck(now=now or timezone.now())


def test_a_closing_link_is_due_for_a_recheck_at_once(stripe):
    order, link = closed_link(abaya(2))
    assert link.status == LinkStatus.EXPIRED and order.status == OrderStatus.EXPIRED
    assert link.next_check_at == link.settled_at and link.checks == 0


def test_a_late_payment_with_its_stock_still_there_makes_the_order_paid(stripe):
    variant = abaya(3)
    order, link = closed_link(variant)
    contacts.window_touch(contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now())
    assert available_one(variant=variant) == 3  # the hold went when the link closed
    stripe.session_paid = True
    assert beat() == 1
    order.refresh_from_db()
    link.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert (link.status, link.next_check_at, link.stripe_payment_intent_id) == (LinkStatus.PAID, None, "pi_late")
    assert available_one(variant=variant) == 1 and stripe.refunds == []
    assert not Alert.objects.exists()  # the amount matched, the receipt went
    assert messages_about(subject_type="order", subject_id=order.reference).filter(purpose="order_receipt").exists()


def test_a_late_payment_whose_stock_is_gone_is_refunded_once_and_told_by_template_outside_the_window(stripe):
    variant = abaya(2)
    order, link = closed_link(variant)
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(hours=30)
    )
    approved_chain(order.business_account, "payment_refunded", "payment_refunded_v1")
    Variant.objects.filter(pk=variant.pk).update(on_hand=1, on_hand_as_of=timezone.now())  # the ERP sold one
    stripe.session_paid = True
    beat()
    beat()  # a second sweep (and a replayed webhook) finds nothing more to do
    payments.payment_reconcile(link=PaymentLink.objects.get(pk=link.pk))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.paid_at is None
    refund = Refund.objects.get()
    assert stripe.refunds == [("pi_late", 640_00, refund.idempotency_key)]
    assert refund.status == RefundStatus.SUCCEEDED and order.reference in refund.idempotency_key
    assert available_one(variant=variant) == 1  # nothing sold, nothing held
    told = messages_about(subject_type="order", subject_id=order.reference).get(purpose="payment_refunded")
    assert (told.purpose, told.template_name) == ("payment_refunded", "payment_refunded_v1")
    customer = order.contact.profile_name or "there"
    assert told.template_params == {"customer": customer, "order_ref": order.reference, "total": "640.00 AED"}
    assert not OutboundMessage.objects.filter(purpose="order_update").exists()


def test_a_refund_stripe_could_not_take_is_sent_again_by_beat_with_the_same_key(stripe):
    variant = abaya(2)
    order, _ = closed_link(variant)
    Variant.objects.filter(pk=variant.pk).update(on_hand=0, on_hand_as_of=timezone.now())
    stripe.session_paid = True
    stripe.fail = stripe_client.StripeTransientError("connection reset")
    beat()
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert late_refunds.late_refunds_retry(now=timezone.now()) == 1  # part of beat's checkout.reconcile_payments
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    first, second = stripe.refunds
    assert first[2] == second[2] and Refund.objects.count() == 1


def test_the_recheck_backs_off_for_a_week_then_alerts_and_stops(stripe):
    order, link = closed_link(abaya(2))
    stripe.session_status, stripe.intent_status = "complete", "processing"  # a delayed payment method, unsettled
    now, delays = link.settled_at, []
    for _ in range(6):
        beat(now)
        link.refresh_from_db()
        delays.append(link.next_check_at - now)
        now = link.next_check_at
    for delay, minutes in zip(delays, (1, 2, 4, 8, 16, 32), strict=True):
        assert timedelta(minutes=minutes * 0.8) <= delay <= timedelta(minutes=minutes * 1.2)
    PaymentLink.objects.filter(pk=link.pk).update(checks=20)
    beat(now)
    link.refresh_from_db()
    assert link.next_check_at - now <= late_payments.RECHECK_CAP * 1.2
    assert not Alert.objects.filter(kind="payment_unsettled").exists()
    beat(link.settled_at + timedelta(days=7))
    link.refresh_from_db()
    assert link.next_check_at is None
    alert = Alert.objects.get(kind="payment_unsettled")
    assert order.reference in alert.subject and link.stripe_session_id in alert.detail
    assert beat(link.settled_at + timedelta(days=8)) == 0


@pytest.mark.parametrize(
    ("session_status", "intent_status"),
    [
        ("expired", None),
        ("complete", "requires_payment_method"),
        ("complete", "canceled"),
    ],
)
def test_a_final_answer_from_stripe_ends_the_rechecks(stripe, session_status, intent_status):
    order, link = closed_link(abaya(2))
    stripe.session_status, stripe.intent_status = session_status, intent_status
    beat()
    link.refresh_from_db()
    assert (link.next_check_at, link.checks, link.status) == (None, 1, LinkStatus.EXPIRED)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED


def test_a_session_still_open_at_stripe_is_expired_there_and_checked_again_later(stripe):
    order, link = closed_link(abaya(2))
    stripe.session_status = "open"
    beat()
    link.refresh_from_db()
    assert stripe.expired == [link.stripe_session_id]
    assert link.next_check_at > timezone.now() and link.checks == 1
