"""Staff fulfil a paid order from its admin page: packed, shipped with carrier and tracking URL,
delivered; each step is told to the customer, and a refused event shows its error."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from checkout.models import Order, OrderStatus
from conversations.models import ThreadState
from tests.checkout.factories import paid_order
from tests.conversations.factories import ThreadFactory
from tests.support.browser import admin_log_in, screenshot
from waco.contacts import services as contacts

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db, monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)  # queued stays queued
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


@pytest.fixture
def order(staff):
    """Paid an hour ago by a customer who wrote just before: the window is open."""
    order = paid_order()
    ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_FULFILLMENT)
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(hours=1)
    )
    return order


def log_in(page, live_server, next_path):
    admin_log_in(page, live_server.url, PASSWORD, next_path=next_path)


def test_staff_pack_ship_and_deliver_an_order_and_each_step_is_told(page, live_server, order):
    log_in(page, live_server, f"/admin/checkout/order/{order.pk}/change/")
    assert "Linen Abaya M" in page.inner_text("#order-lines")
    session_id = order.payment_links.get().stripe_session_id
    assert session_id not in page.inner_text("#order-payments")  # Stripe's ids are folded under details
    page.click("#order-payments-details summary")
    assert session_id in page.inner_text("#order-payments-details")

    page.click("#do-packed")
    page.wait_for_selector(".messagelist")
    assert f"Order {order.reference} is now packed" in page.inner_text(".messagelist")
    assert "Packed" in page.inner_text("#order-status")

    page.fill("#carrier", "Aramex")
    page.fill("#tracking-url", "https://aramex.example/track/AX123")
    page.click("#do-shipped")
    page.wait_for_selector("text=is now shipped")
    screenshot(page, "admin-order-shipped")
    assert "Aramex https://aramex.example/track/AX123" in page.inner_text("#order-history")

    page.click("#do-delivered")
    page.wait_for_selector("text=is now delivered")
    screenshot(page, "admin-order-delivered")
    told = page.inner_text("#order-messages")
    assert f"Your order {order.reference} is packed." in told
    assert (
        f"Your order {order.reference} has shipped! Carrier: Aramex. Track it here: https://aramex.example/track/AX123"
        in told
    )
    assert f"Your order {order.reference} has been delivered." in told
    assert told.count("free-form") == 3
    assert page.locator("#fulfil-forms form").count() == 1  # only "Refund" fits a delivered order
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED


def test_a_refused_event_shows_its_error_and_the_order_stays(page, live_server, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PACKED)
    log_in(page, live_server, f"/admin/checkout/order/{order.pk}/change/")
    page.fill("#carrier", "Aramex")
    page.fill("#tracking-url", "ftp://aramex.example/track/AX123")  # a URL to the browser, not to a customer
    page.click("#do-shipped")
    page.wait_for_selector(".messagelist .error")
    screenshot(page, "admin-order-refused")
    assert "Shipped needs a tracking URL starting with http:// or https://." in page.inner_text(".messagelist")
    assert "Packed" in page.inner_text("#order-status")
    assert "No message about this order yet." in page.inner_text("#order-messages")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
