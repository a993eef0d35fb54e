"""The journey continued to money and delivery, on the demo chat page in headless chromium:
a catalog cart, checkout, the payment link, the sandbox's Stripe page, the receipt; then staff
mark the order packed, shipped and delivered in the admin and the customer reads each step."""

import os

import pytest
from playwright.sync_api import expect

from checkout.models import Order, OrderStatus
from conversations.models import Thread, ThreadState
from tests.support.browser import admin_log_in, screenshot
from tests.support.chat_page import PASSWORD, SHOP

pytestmark = pytest.mark.worker
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares this thread with the ORM
CUSTOMER, NAME = "971501230055", "Noor"
REPLY_TIMEOUT = 20_000


def shop_says(page, text):
    found = page.locator(".msg--theirs", has_text=text)
    expect(found.first).to_be_visible(timeout=REPLY_TIMEOUT)
    return found.last


def test_a_customer_pays_from_the_chat_and_follows_the_order_to_delivery(page, chat_shop):
    page.goto(f"{chat_shop.live_url}/demo/chat/?wa_id={CUSTOMER}&name={NAME}")
    expect(page.get_by_role("heading", name=SHOP)).to_be_visible()

    # A cart from WhatsApp's catalog: one L.
    page.get_by_role("button", name="Catalog", exact=True).click()
    sheet = page.get_by_role("dialog")
    sheet.locator('[data-retailer-id="ABY-L"]').get_by_role("button", name="Add Linen Abaya to cart").click()
    sheet.get_by_role("button", name="View cart (1)").click()
    sheet.get_by_role("button", name="Send order").click()
    cart = shop_says(page, "Here is your order from the catalog")
    expect(cart).to_contain_text("Total: 340.00 AED")

    # Checkout: the order is reserved and the payment link follows as a button.
    cart.get_by_role("button", name="Checkout", exact=True).click()
    shop_says(page, "is reserved for you for 40 minutes")
    link = shop_says(page, "Pay securely with Stripe").get_by_role("link", name="Pay 340.00 AED")
    expect(link).to_have_attribute("href", f"{chat_shop.live_url}/pay/{Order.objects.get().payment_links.get().token}/")
    screenshot(page, "chat-payment-1-link")

    # The link opens Stripe's (the sandbox's) page; the customer pays and lands on our thank-you page.
    with page.expect_popup() as popup:
        link.click()
    stripe_page = popup.value
    expect(stripe_page.locator("#total")).to_have_text("340.00 AED")
    screenshot(stripe_page, "chat-payment-2-stripe-page")
    stripe_page.get_by_role("button", name="Pay", exact=True).click()
    expect(stripe_page.get_by_role("heading", name="Thank you!")).to_be_visible()
    stripe_page.close()

    # Stripe's event, re-read, makes the order paid: the receipt arrives in the chat, once.
    receipt = shop_says(page, "Payment received, thank you!")
    expect(receipt).to_contain_text("Total paid: 340.00 AED")
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    assert Thread.objects.get(contact__wa_id=CUSTOMER).state == ThreadState.AWAITING_FULFILLMENT
    screenshot(page, "chat-payment-3-receipt")

    # Staff fulfil the order from its admin page; the customer reads each step.
    admin = page.context.new_page()
    admin_log_in(admin, chat_shop.live_url, PASSWORD, next_path=f"/admin/checkout/order/{order.pk}/change/")
    admin.click("#do-packed")
    expect(admin.locator("#order-status")).to_contain_text("Packed")
    admin.fill("#carrier", "Aramex")
    admin.fill("#tracking-url", "https://track.example.com/AX123")
    admin.click("#do-shipped")
    expect(admin.locator("#order-status")).to_contain_text("Shipped")
    shipped = shop_says(page, "has shipped!")
    expect(shipped).to_contain_text("Carrier: Aramex. Track it here: https://track.example.com/AX123")
    admin.click("#do-delivered")
    expect(admin.locator("#order-status")).to_contain_text("Delivered")
    screenshot(admin, "chat-payment-4-order-admin")
    admin.close()

    shop_says(page, "has been delivered")
    assert Thread.objects.get(contact__wa_id=CUSTOMER).state == ThreadState.BROWSING  # free to shop again
    assert page.locator(".msg--theirs", has_text="Payment received").count() == 1
    screenshot(page, "chat-payment-5-delivered")
