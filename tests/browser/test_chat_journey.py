"""The conversations issue's journey played on the demo chat page: a person types and taps in
headless chromium, the sandbox posts the webhooks to a live server, a real Celery worker answers,
and the page shows each answer from the sandbox's outbox. Staff watch the same thread in the admin."""

import os
import re

import pytest
from playwright.sync_api import expect

from catalog.models import Variant
from conversations.models import Thread, ThreadState
from tests.support.browser import admin_log_in, screenshot
from tests.support.chat_page import PASSWORD, REPLY_TIMEOUT, SHOP, mine, says, shop_says

pytestmark = pytest.mark.worker
# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CUSTOMER, NAME = "971501239876", "Amal"


def shot(page, name, top=None):
    """A screenshot with the newest messages in view, or with `top` at the top of the thread."""
    if top is None:
        page.locator("#thread").evaluate("t => t.scrollTop = t.scrollHeight")
    else:
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
    screenshot(page, name)


def taps(page, title):
    page.get_by_role("button", name=title, exact=True).last.click()


def picks(page, menu, row):
    """Open a list message's menu (the newest with that button) and choose a row in the sheet."""
    taps(page, menu)
    sheet = page.get_by_role("dialog")
    sheet.get_by_role("button", name=row, exact=True).click()
    expect(sheet).to_be_hidden()


def test_a_customer_shops_on_the_chat_page_and_staff_see_the_same_thread(page, chat_shop):
    shop = chat_shop
    v = shop.variants
    page.goto(f"{shop.live_url}/demo/chat/?wa_id={CUSTOMER}&name={NAME}")
    expect(page.get_by_role("heading", name=SHOP)).to_be_visible()

    # "hi": the menu with its buttons, and the offers question once.
    says(page, "hi")
    menu = shop_says(page, f"Welcome to {SHOP}. What would you like to do?")
    for title in ("Browse products", "My cart", "Talk to a person"):
        expect(menu.get_by_role("button", name=title, exact=True)).to_be_visible()
    shop_says(page, "Would you like to hear about new arrivals and offers")
    shot(page, "chat-journey-1-menu")

    # Browse: categories, then the category's products with the live lowest price.
    taps(page, "Browse products")
    shop_says(page, "Choose a category.")
    taps(page, "Categories")
    expect(page.get_by_role("dialog")).to_contain_text("Abayas")
    page.get_by_role("dialog").get_by_role("button", name="Abayas", exact=True).click()
    shop_says(page, "Abayas: choose a product.")
    taps(page, "Products")
    expect(page.get_by_role("dialog")).to_contain_text("from 320.00 AED")
    page.get_by_role("dialog").get_by_role("button", name="Linen Abaya", exact=True).click()

    # The product card: every size with today's price and stock, and the product's picture.
    card = shop_says(page, "Breathable linen")
    sizes = (
        "S: 300.00 AED (sold out)",
        "M: 320.00 AED (4 left)",
        "L: 340.00 AED (in stock)",
        "XL: 360.00 AED (3 left)",
    )
    for line in sizes:
        expect(card).to_contain_text(line)
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"/static/catalog/demo/abaya\.png$"))
    shot(page, "chat-journey-2-product-card")

    # Choose & add two sizes: the cart is totalled at live prices.
    taps(page, "Choose & add")
    shop_says(page, "Linen Abaya: which one?")
    picks(page, "Options", "M")
    expect(shop_says(page, "Added Linen Abaya M.")).to_contain_text("Total: 320.00 AED")
    picks(page, "Options", "L")  # the same list again, as WhatsApp allows
    cart = shop_says(page, "Added Linen Abaya L.")
    expect(cart).to_contain_text("Total: 660.00 AED")
    shot(page, "chat-journey-3-cart", top=card)

    # The system of record raises L's price: the cart shows the new one.
    Variant.objects.filter(pk=v["L"].pk).update(price_minor=355_00)
    says(page, "cart")
    cart = shop_says(page, "Your cart", count=3)
    expect(cart).to_contain_text("L: 355.00 AED")
    expect(cart).to_contain_text("Total: 675.00 AED")

    # XL sells out while the options list is on screen: tapping it is refused, the cart is kept.
    Variant.objects.filter(pk=v["XL"].pk).update(on_hand=0)
    picks(page, "Options", "XL")
    refused = shop_says(page, "Sorry, I could not add that: Linen Abaya XL is sold out.")
    expect(refused).to_contain_text("Total: 675.00 AED")

    # WhatsApp's catalog still shows L at the pushed 340.00: the order is taken at today's price.
    page.get_by_role("button", name="Catalog", exact=True).click()
    sheet = page.get_by_role("dialog")
    expect(sheet.locator('[data-retailer-id="ABY-S"]').get_by_role("button", name="Sold out")).to_be_disabled()
    row = sheet.locator('[data-retailer-id="ABY-L"]')
    expect(row).to_contain_text("340.00 AED")
    row.get_by_role("button", name="Add Linen Abaya to cart").click()
    sheet.get_by_role("button", name="View cart (1)").click()
    expect(sheet).to_contain_text("Total 340.00 AED")
    sheet.get_by_role("button", name="Send order").click()
    expect(mine(page).last).to_contain_text("1 item")
    ordered = shop_says(page, "Here is your order from the catalog, at today's prices.")
    expect(ordered).to_contain_text("Linen Abaya L: the catalog showed 340.00 AED; today's price is 355.00 AED")
    expect(ordered).to_contain_text("Total: 355.00 AED")
    shot(page, "chat-journey-4-catalog-order")

    # "agent": the bot hands the thread to a person and falls silent.
    says(page, "agent")
    shop_says(page, "Thank you. A person from the shop will answer you here shortly.")
    thread = Thread.objects.get(contact__wa_id=CUSTOMER)
    assert thread.state == ThreadState.HANDOFF

    # Staff: the admin index opens the chat; the thread opens this customer's chat; they hand back.
    admin = page.context.new_page()
    admin_log_in(admin, shop.live_url, PASSWORD)
    index_link = admin.get_by_role("link", name="Open the demo chat (play the customer)")
    expect(index_link).to_have_attribute("href", "/demo/chat/")
    admin.goto(f"{shop.live_url}/admin/conversations/thread/{thread.pk}/change/")
    expect(admin.locator("#conversation")).to_contain_text("today's price is 355.00 AED")
    expect(admin.locator("#cart")).to_contain_text("355.00 AED")
    with admin.expect_popup() as popup:
        admin.click("#chat-link")
    their_chat = popup.value
    expect(their_chat.locator(".msg--theirs", has_text="A person from the shop will answer")).to_be_visible()
    expect(their_chat.locator("#wa-id")).to_have_value(CUSTOMER)
    their_chat.close()
    screenshot(admin, "chat-journey-5-admin-thread")
    admin.click("#hand-back")
    expect(admin.locator(".messagelist")).to_be_visible()
    thread.refresh_from_db()
    assert thread.state != ThreadState.HANDOFF
    admin.close()

    # Handed back: "hi" brings the menu again.
    says(page, "hi")
    shop_says(page, f"Welcome to {SHOP}. What would you like to do?", count=2)

    # Waco marked every message of the customer read: blue ticks throughout.
    sent = mine(page)
    expect(sent).to_have_count(12)
    for n in range(12):
        expect(sent.nth(n).locator(".ticks")).to_have_attribute("data-status", "read", timeout=REPLY_TIMEOUT)
    shot(page, "chat-journey-6-handed-back")
