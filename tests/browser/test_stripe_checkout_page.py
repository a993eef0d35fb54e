"""The customer pays on the sandbox's hosted checkout page and Waco's Stripe webhook hears of it."""

import os
from datetime import timedelta

from django.utils import timezone

from checkout import stripe_client
from tests.support.browser import screenshot
from tests.support.sandbox_stripe import stripe_receiver  # noqa: F401
from waco.sandbox.services import deliveries_flush

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_customer_pays_on_the_checkout_page_and_a_signed_event_is_delivered(
    page, live_server, settings, stripe_receiver
):
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False
    try:
        session = stripe_client.checkout_session_create(
            order_ref="order-7",
            line_items=[stripe_client.LineItem(name="Green tea", unit_amount=1250, quantity=2)],
            currency="eur",
            expires_at=timezone.now() + timedelta(hours=1),
            idempotency_key="order-7-attempt-1",
            success_url=f"{live_server.url}/health/?paid={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{live_server.url}/health/?cancelled=1",
            metadata={},
        )
    finally:
        stripe_client.stripe_clients_close()

    page.goto(session.url)
    assert "Green tea × 2" in page.inner_text("#line-items")
    assert page.inner_text("#total") == "25.00 EUR"
    screenshot(page, "sandbox-stripe-checkout")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(f"{live_server.url}/health/?paid={session.id}")

    deliveries_flush()
    [event] = stripe_receiver.events  # the receiver accepted only a valid Stripe-Signature
    assert stripe_receiver.bad_signatures == 0
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["id"] == session.id
    assert event["data"]["object"]["payment_status"] == "paid"
    assert event["data"]["object"]["metadata"]["order_id"] == "order-7"
