"""Paying from the thread, end to end: a real worker, the sandbox as Meta and as Stripe over HTTP.

Stripe's events reach /webhooks/stripe/ signed by the sandbox; the order is paid only
when the session, re-read from Stripe, says so; the receipt goes once.
"""

import json
import time

import pytest
import requests
from django.conf import settings

from catalog.models import Variant
from catalog.stock import available_one
from checkout.models import LinkStatus, Order, OrderStatus, PaymentLink
from conversations.models import ThreadState
from tests.support.checkout_e2e import checkout, receipts, stripe_events_delivered
from tests.support.drain import wait_drained
from tests.support.shopper import Shopper, text_of
from tests.workers import RUN_BEAT_JOB, run_python, wait_until
from waco.ingest.models import Delivery, DeliverySource
from waco.sandbox import services as sandbox
from waco.sandbox.signing import stripe_signature_header
from waco.sandbox.stripe.payments import session_delayed_settle, session_leave, session_pay_card, session_pay_delayed

pytestmark = pytest.mark.worker


def order_status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_a_customer_pays_through_the_link_and_gets_one_receipt_despite_duplicates_and_shuffles(worker_shop):
    sandbox.config_update(changes={"stripe_faults": {"duplicate": 1.0, "reorder": 0.5}, "reorder_delay_ms": 200})
    amal = Shopper(worker_shop, "971502220001")
    order, link, url = checkout(worker_shop, amal)
    assert url == f"{worker_shop.live_url}/pay/{link.token}/"
    opened = requests.get(url, allow_redirects=False, timeout=5)
    assert opened.status_code == 302 and "/sandbox/stripe/" in opened.headers["Location"]
    assert available_one(variant=worker_shop.variants["M"]) == 2  # held while the link is open

    session_pay_card(session_id=link.stripe_session_id)
    time.sleep(0.3)  # past reorder_delay_ms: the held-back events come due
    stripe_events_delivered()
    wait_until(lambda: receipts(amal), message="the receipt")
    stripe_events_delivered()
    wait_drained()  # every duplicate has been applied or skipped: a second receipt would be out
    assert len(receipts(amal)) == 1
    assert "Total paid: 640.00 AED" in text_of(receipts(amal)[0])
    assert order_status(order) == OrderStatus.PAID
    assert PaymentLink.objects.get(pk=link.pk).status == LinkStatus.PAID
    medium = Variant.objects.get(pk=worker_shop.variants["M"].pk)
    assert (medium.on_hand, available_one(variant=medium)) == (4, 2)  # sold, not held; the level is the ERP's
    assert order.contact.threads.get().state == ThreadState.AWAITING_FULFILLMENT
    assert Delivery.objects.filter(source=DeliverySource.STRIPE).count() >= 2  # duplicates arrived, one applied
    used = requests.get(url, allow_redirects=False, timeout=5)
    assert used.status_code == 410 and "already paid" in used.text


def test_a_completed_but_unpaid_session_is_not_paid_until_the_money_settles(worker_shop):
    noor = Shopper(worker_shop, "971502220002")
    order, link, _ = checkout(worker_shop, noor)
    session_pay_delayed(session_id=link.stripe_session_id)  # checkout.session.completed, payment_status unpaid
    stripe_events_delivered()
    wait_until(
        lambda: Delivery.objects.filter(source=DeliverySource.STRIPE, status="done").exists(), message="the event"
    )
    wait_drained()
    assert order_status(order) == OrderStatus.PENDING_PAYMENT and not receipts(noor)

    session_delayed_settle(session_id=link.stripe_session_id, succeeded=True)
    stripe_events_delivered()
    wait_until(lambda: receipts(noor), message="the receipt after settlement")
    assert order_status(order) == OrderStatus.PAID


def test_a_failed_delayed_payment_releases_the_stock_and_tells_the_customer(worker_shop):
    sara = Shopper(worker_shop, "971502220003")
    order, link, _ = checkout(worker_shop, sara)
    session_pay_delayed(session_id=link.stripe_session_id)
    session_delayed_settle(session_id=link.stripe_session_id, succeeded=False)
    stripe_events_delivered()
    told = wait_until(
        lambda: next((i for i in sara.outbox() if "did not go through" in text_of(i)), None), message="the failure told"
    )
    assert "nothing was charged" in text_of(told)
    assert order_status(order) == OrderStatus.EXPIRED
    assert available_one(variant=worker_shop.variants["M"]) == 4
    assert order.contact.threads.get().state == ThreadState.BUILDING_CART  # the cart is kept


def test_an_expired_link_releases_the_stock_and_a_late_completed_event_changes_nothing(worker_shop):
    huda = Shopper(worker_shop, "971502220004")
    order, link, url = checkout(worker_shop, huda)
    session_leave(session_id=link.stripe_session_id)  # checkout.session.expired
    stripe_events_delivered()
    wait_until(lambda: next((i for i in huda.outbox() if "has expired" in text_of(i)), None), message="expiry told")
    assert order_status(order) == OrderStatus.EXPIRED and available_one(variant=worker_shop.variants["M"]) == 4
    assert requests.get(url, allow_redirects=False, timeout=5).status_code == 410

    # A forged-late "completed" for the same session: the re-read session says expired.
    post_signed_event(worker_shop, "checkout.session.completed", link.stripe_session_id)
    wait_drained()
    assert order_status(order) == OrderStatus.EXPIRED and not receipts(huda)


def test_an_expired_event_after_payment_changes_nothing(worker_shop):
    lina = Shopper(worker_shop, "971502220005")
    order, link, _ = checkout(worker_shop, lina)
    session_pay_card(session_id=link.stripe_session_id)
    stripe_events_delivered()
    wait_until(lambda: receipts(lina), message="the receipt")
    post_signed_event(worker_shop, "checkout.session.expired", link.stripe_session_id)
    wait_drained()
    assert order_status(order) == OrderStatus.PAID and len(receipts(lina)) == 1


def test_a_dropped_webhook_is_repaired_by_the_registered_reconciliation_job(worker_shop):
    sandbox.config_update(changes={"stripe_faults": {"drop": ["checkout.session.completed"]}})
    maha = Shopper(worker_shop, "971502220006")
    order, link, _ = checkout(worker_shop, maha)
    session_pay_card(session_id=link.stripe_session_id)
    stripe_events_delivered()
    wait_drained()
    assert order_status(order) == OrderStatus.PENDING_PAYMENT  # Waco never heard of it
    run_python(
        RUN_BEAT_JOB % "checkout.reconcile_payments", {"WACO_STRIPE_API_BASE": worker_shop.live_url + "/sandbox/stripe"}
    )
    wait_until(lambda: receipts(maha), message="the receipt after reconciliation")
    assert order_status(order) == OrderStatus.PAID


def post_signed_event(worker_shop, event_type: str, session_id: str) -> None:
    """An event as Stripe would send it late: correctly signed, carrying the session as it is now."""
    session = requests.get(
        f"{worker_shop.live_url}/sandbox/stripe/v1/checkout/sessions/{session_id}",
        timeout=5,
        headers={"Authorization": f"Bearer {settings.WACO_STRIPE_SECRET_KEY}"},
    ).json()
    body = json.dumps(
        {
            "id": f"evt_late_{event_type}_{session_id}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": session},
        }
    ).encode()
    answer = requests.post(
        f"{worker_shop.live_url}/webhooks/stripe/",
        data=body,
        timeout=5,
        headers={"Stripe-Signature": stripe_signature_header(body), "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
