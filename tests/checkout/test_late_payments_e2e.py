"""A payment on a link Waco closed, end to end: a real worker, the sandbox as Meta and as Stripe over HTTP.

The customer goes back to the cart (the link closes) and the task that would expire the session
at Stripe is lost; the customer pays on the page still open, and Stripe's webhook is dropped.
Only the link's row is left to find the money: beat's checkout.reconcile_payments re-reads it.
"""

import pytest
from django.utils import timezone

from catalog.models import Variant
from catalog.stock import available_one
from checkout import payments
from checkout.models import LinkStatus, Order, OrderStatus, Refund, RefundStatus
from tests.support.checkout_e2e import checkout, receipts, stripe_events_delivered
from tests.support.drain import wait_drained
from tests.support.shopper import Shopper, text_of
from tests.workers import RUN_BEAT_JOB, run_python, wait_until
from waco.sandbox import services as sandbox
from waco.sandbox.models import StripeRefund
from waco.sandbox.stripe.payments import session_pay_card

pytestmark = pytest.mark.worker


def order_status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def paid_after_the_link_closed(worker_shop, monkeypatch, shopper, *, on_hand_meanwhile=None):
    sandbox.config_update(changes={"stripe_faults": {"drop": ["checkout.session.completed"]}})
    order, link, _ = checkout(worker_shop, shopper)
    lost = []
    monkeypatch.setattr(payments, "send_task_or_log", lambda task, *args: lost.append(task.name))
    assert payments.order_abandon(order=order, cause="customer")
    assert lost == ["checkout.expire_session"]  # the session stays open at Stripe
    if on_hand_meanwhile is not None:  # the system of record reports a new level
        Variant.objects.filter(pk=worker_shop.variants["M"].pk).update(
            on_hand=on_hand_meanwhile, on_hand_as_of=timezone.now()
        )
    session_pay_card(session_id=link.stripe_session_id)  # the page was still open in the customer's browser
    stripe_events_delivered()  # dropped: Waco hears nothing
    wait_drained()
    assert order_status(order) == OrderStatus.EXPIRED and not receipts(shopper)
    return order, link


def beat_reconciles(worker_shop) -> None:
    run_python(
        RUN_BEAT_JOB % "checkout.reconcile_payments", {"WACO_STRIPE_API_BASE": worker_shop.live_url + "/sandbox/stripe"}
    )


def refund_notices(shopper) -> list[dict]:
    return [item for item in shopper.outbox() if "refunded it in full" in text_of(item)]


def test_a_payment_on_a_closed_link_with_its_tasks_lost_ends_paid_when_the_stock_is_there(worker_shop, monkeypatch):
    amal = Shopper(worker_shop, "971502230001")
    order, link = paid_after_the_link_closed(worker_shop, monkeypatch, amal)
    beat_reconciles(worker_shop)
    wait_until(lambda: receipts(amal), message="the receipt after the row-driven re-check")
    assert order_status(order) == OrderStatus.PAID
    link.refresh_from_db()
    assert (link.status, link.next_check_at) == (LinkStatus.PAID, None)
    assert available_one(variant=worker_shop.variants["M"]) == 2  # taken again, and sold
    assert not Refund.objects.exists() and not StripeRefund.objects.exists()


def test_a_payment_on_a_closed_link_with_its_tasks_lost_is_refunded_once_when_the_stock_is_gone(
    worker_shop, monkeypatch
):
    noor = Shopper(worker_shop, "971502230002", name="Noor")
    order, link = paid_after_the_link_closed(worker_shop, monkeypatch, noor, on_hand_meanwhile=1)
    beat_reconciles(worker_shop)
    told = wait_until(lambda: refund_notices(noor), message="the customer told of the refund")
    assert order.reference in text_of(told[0]) and "640.00 AED" in text_of(told[0])
    beat_reconciles(worker_shop)  # the next sweep, and the one after, change nothing
    beat_reconciles(worker_shop)
    wait_drained()
    assert order_status(order) == OrderStatus.REFUNDED and not receipts(noor)
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_minor) == (RefundStatus.SUCCEEDED, 640_00)
    at_stripe = StripeRefund.objects.get()  # one refund at Stripe, of the whole payment
    link.refresh_from_db()
    assert (at_stripe.amount, at_stripe.payment_intent.intent_id) == (640_00, link.stripe_payment_intent_id)
    assert len(refund_notices(noor)) == 1
    assert available_one(variant=worker_shop.variants["M"]) == 1  # nothing sold, nothing held
