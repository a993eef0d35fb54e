"""Staff refund an order from its admin page: an empty amount is refused, the confirmation page states the
sum and what the customer is told, "No" changes nothing, "Yes" refunds exactly the stated sum once."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from checkout import stripe_client
from checkout.models import Order, OrderStatus, Refund
from conversations.models import ThreadState
from tests.checkout.factories import paid_order
from tests.conversations.factories import ThreadFactory
from tests.support.browser import admin_log_in
from waco.contacts import services as contacts

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"
SHOTS = Path("/tmp/safer-shots")


@pytest.fixture
def refunds(monkeypatch):
    """Stripe's refund call, answered in-process (the live server runs in this process) and recorded."""
    asked = []

    def refund_create(*, payment_intent_id, amount, idempotency_key):
        asked.append(amount)
        return stripe_client.Refund(
            id=f"re_{len(asked)}_test",
            amount=amount,
            currency="aed",
            status="succeeded",
            payment_intent_id=payment_intent_id,
        )

    monkeypatch.setattr(stripe_client, "refund_create", refund_create)
    return asked


@pytest.fixture
def order(transactional_db, monkeypatch):
    """Delivered yesterday, paid 640.00 AED; the customer wrote an hour ago, so the window is open."""
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)  # queued stays queued
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)
    order = paid_order(status=OrderStatus.DELIVERED)
    ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_FULFILLMENT)
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(hours=1)
    )
    return order


@pytest.fixture
def shot(page, tmp_path):
    """Save a full-page screenshot under the test's tmp dir and copy it to /tmp/safer-shots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky sidebar is drawn where the page was scrolled
        page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, SHOTS / path.name)
        return path

    return take


def test_a_refund_is_confirmed_with_its_sum_before_stripe_is_asked(page, live_server, order, refunds, shot):
    order_path = f"/admin/checkout/order/{order.pk}/change/"
    admin_log_in(page, live_server.url, PASSWORD, next_path=order_path)
    assert "Full refund: 640.00 AED" in page.inner_text("#fulfil-refunded")
    shot("1-order-page")

    # "Part of it" with nothing typed is no amount: refused, and nothing moves.
    page.check("#refund-part")
    page.click("#do-refunded")
    page.wait_for_selector(".messagelist .error")
    assert "Type the amount to refund, or choose the full refund of 640.00 AED." in page.inner_text(".messagelist")
    shot("2-empty-amount-refused")

    # A typed amount: the question states it; "No" goes back and changes nothing.
    page.check("#refund-part")
    page.fill("#refund-amount", "100.50")
    page.click("#do-refunded")
    page.wait_for_selector("#fulfil-confirm")
    assert f"Refund 100.50 AED for order {order.reference}?" in page.inner_text("#content")
    assert "part of the payment" in page.inner_text("#confirm-money")
    shot("3-confirm-partial")
    page.click("#confirm-no")
    page.wait_for_url(f"**{order_path}")
    assert refunds == [] and not Refund.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED

    # The full refund: the question states the sum and what the customer hears; "Yes" refunds it once.
    page.check("#refund-full")
    page.click("#do-refunded")
    page.wait_for_selector("#fulfil-confirm")
    assert "640.00 AED" in page.inner_text("#confirm-money") and "the full refund" in page.inner_text("#confirm-money")
    told = page.inner_text("#confirm-told")
    assert f"order {order.reference} has been refunded (640.00 AED)" in told
    shot("4-confirm-full")
    page.click("#confirm-yes")
    page.wait_for_selector(".messagelist .success")
    assert f"Order {order.reference} is now refunded" in page.inner_text(".messagelist")
    assert refunds == [640_00]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    history = page.inner_text("#order-history")
    assert "Delivered\tRefunded\trefund" in history and "staff" in history
    assert "re_1_test" not in page.inner_text("#order-refunds")  # Stripe's id is folded...
    page.click("#order-refunds-details summary")
    assert "re_1_test" in page.inner_text("#order-refunds-details")  # ...one click away
    shot("5-refunded")


def test_cancelling_a_paid_order_states_the_refund_and_the_reason_first(page, live_server, order, refunds, shot):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    admin_log_in(page, live_server.url, PASSWORD, next_path=f"/admin/checkout/order/{order.pk}/change/")
    page.fill("#cancel-reason", "the abaya is out of stock")
    page.click("#do-cancelled")
    page.wait_for_selector("#fulfil-confirm")
    assert f"Cancel order {order.reference}? 640.00 AED is refunded." in page.inner_text("#content")
    assert "the abaya is out of stock" in page.inner_text("#confirm-told")
    shot("6-confirm-cancel")
    assert refunds == [] and Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    page.click("#confirm-yes")
    page.wait_for_selector(".messagelist .success")
    assert refunds == [640_00] and Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    shot("7-cancelled-and-refunded")
