"""A paid order cancelled, or refunded, by the storefront through /api/v1/, end to end: a real worker,
the sandbox as Meta and as Stripe over HTTP. The money goes back at Stripe once and the customer hears
of it once, however often the storefront repeats itself."""

import pytest
import requests

from checkout.models import Order, OrderStatus, Refund, RefundStatus
from tests.support.api import api_key
from tests.support.checkout_e2e import checkout, receipts, stripe_events_delivered
from tests.support.drain import wait_drained
from tests.support.shopper import Shopper, text_of
from tests.workers import wait_until
from waco.sandbox.models import StripeRefund
from waco.sandbox.stripe.payments import session_pay_card

pytestmark = pytest.mark.worker


def said(shopper, words: str) -> list[dict]:
    return [item for item in shopper.outbox() if words in text_of(item)]


def paid_through_the_sandbox(worker_shop, shopper):
    """The shopper's order, paid by card at the sandbox's Stripe, the receipt in the thread; and a key
    of the storefront's for the order's account."""
    order, link, _ = checkout(worker_shop, shopper)
    session_pay_card(session_id=link.stripe_session_id)
    stripe_events_delivered()
    wait_until(lambda: receipts(shopper), message="the receipt")
    _, raw = api_key(scopes=["orders:read", "orders:write"], accounts=[order.business_account], name="Shopify")
    return order, link, raw


def test_a_paid_order_cancelled_through_the_api_is_refunded_at_stripe_and_told_once(worker_shop):
    amal = Shopper(worker_shop, "971502240001")
    order, link, raw = paid_through_the_sandbox(worker_shop, amal)
    events = f"{worker_shop.live_url}/api/v1/orders/{order.reference}/events"

    def cancel() -> dict:
        answer = requests.post(
            events,
            json={"event": "cancelled", "reason": "the size is sold out"},
            headers={"Authorization": f"Bearer {raw}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = cancel()
    assert (first["result"], first["status"]) == ("applied", OrderStatus.REFUNDED)
    wait_until(lambda: said(amal, "has been refunded"), message="the refund told")
    again = cancel()  # the storefront retries without an Idempotency-Key
    assert again["result"] == "already_applied"
    wait_drained()

    at_stripe = StripeRefund.objects.get()  # one refund at Stripe, of the whole payment
    link.refresh_from_db()
    assert (at_stripe.amount, at_stripe.payment_intent.intent_id) == (640_00, link.stripe_payment_intent_id)
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_minor, refund.stripe_refund_id) == (
        RefundStatus.SUCCEEDED,
        640_00,
        at_stripe.refund_id,
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    cancelled = said(amal, "has been cancelled")
    assert len(cancelled) == 1 and "the size is sold out" in text_of(cancelled[0])
    assert len(said(amal, "has been refunded")) == 1
    assert again["status_history"][-2:] == [
        {**again["status_history"][-2], "from_status": "paid", "to_status": "cancelled", "cause": "api"},
        {**again["status_history"][-1], "from_status": "cancelled", "to_status": "refunded", "cause": "api"},
    ]


def test_a_refund_reported_through_the_api_is_made_at_stripe_shown_in_the_history_and_told_once(worker_shop):
    huda = Shopper(worker_shop, "971502240002", name="Huda")
    order, link, raw = paid_through_the_sandbox(worker_shop, huda)
    headers = {"Authorization": f"Bearer {raw}"}
    url = f"{worker_shop.live_url}/api/v1/orders/{order.reference}"

    def refund() -> dict:
        answer = requests.post(
            f"{url}/events",
            json={"event": "refunded", "amount_minor": 320_00, "reason": "one abaya returned"},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = refund()
    assert (first["result"], first["status"]) == ("applied", OrderStatus.REFUNDED)
    wait_until(lambda: said(huda, "has been refunded"), message="the refund told")
    assert refund()["result"] == "already_applied"  # the storefront retries without an Idempotency-Key
    wait_drained()

    at_stripe = StripeRefund.objects.get()  # one refund at Stripe, of the amount asked, on the payment
    link.refresh_from_db()
    assert (at_stripe.amount, at_stripe.payment_intent.intent_id) == (320_00, link.stripe_payment_intent_id)
    refund_row = Refund.objects.get()
    assert (refund_row.status, refund_row.amount_minor, refund_row.stripe_refund_id) == (
        RefundStatus.SUCCEEDED,
        320_00,
        at_stripe.refund_id,
    )
    shown = requests.get(url, headers=headers, timeout=30).json()
    assert shown["status"] == OrderStatus.REFUNDED
    assert shown["status_history"][-1] == {
        **shown["status_history"][-1],
        "from_status": "paid",
        "to_status": "refunded",
        "cause": "api",
    }
    assert [(r["amount_minor"], r["status"], r["reason"]) for r in shown["refunds"]] == [
        (320_00, "succeeded", "one abaya returned")
    ]
    told = said(huda, "has been refunded")
    assert len(told) == 1 and "We refunded 320.00 AED" in text_of(told[0])
