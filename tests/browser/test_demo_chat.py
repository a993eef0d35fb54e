"""The demo chat page: a person plays the customer while the test plays Waco through the Graph API."""

import json
import os
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.support.browser import screenshot
from tests.support.sandbox_shop import CATALOG_ID, CUSTOMER, TOKEN, VERSION, sandbox_shop_wire
from waco.sandbox.graph.media import placeholder
from waco.sandbox.models import Delivery, DeliveryKind

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOP = "Waco Demo Shop"


@pytest.fixture
def shop(live_server, settings, transactional_db):
    """The shop's number at the sandbox, its catalog holding two products. The test plays Waco, so the
    webhooks stay queued at the sandbox (the harness delivers only when asked) for the test to read."""
    wired = sandbox_shop_wire(settings, live_server, name=SHOP, catalog_id=CATALOG_ID)
    image = f"{live_server.url}/static/catalog/demo/abaya.png"
    items = [
        {"id": "ABAYA-M", "title": "Linen Abaya", "price": "320.50 AED", "image_link": image},
        {"id": "BAG-1", "title": "Leather Bag", "price": "99.00 AED"},
    ]
    graph_post(
        wired,
        f"{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": [{"method": "CREATE", "data": {**item, "availability": "in stock"}} for item in items],
        },
    )
    return wired


def graph_post(shop, path, body) -> dict:
    response = requests.post(
        f"{shop.live_url}/sandbox/graph/{VERSION}/{path}",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def waco_sends(shop, kind, content) -> str:
    """Waco's side of the dialogue: a send as its Graph client makes it; answers the wamid."""
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": kind, kind: content}
    return graph_post(shop, f"{shop.phone_number_id}/messages", body)["messages"][0]["id"]


def interactive(kind, action, **extra):
    return {"type": kind, "body": {"text": f"A {kind} message"}, "action": action, **extra}


def customer_messages(count, timeout=10.0) -> list[dict]:
    """The messages the sandbox queued for Waco (the webhook bodies), once there are `count`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = Delivery.objects.filter(kind=DeliveryKind.MESSAGE).order_by("id")
        bodies = list(rows.values_list("body", flat=True))
        if len(bodies) >= count:
            return [json.loads(b)["entry"][0]["changes"][0]["value"]["messages"][0] for b in bodies]
        time.sleep(0.05)
    raise AssertionError(f"expected {count} customer message(s)")


def bubble(page, wamid):
    return page.locator(f'[data-wamid="{wamid}"]')


def test_a_customer_chats_with_the_shop_in_the_demo_page(page, shop, tmp_path):
    page.goto(f"{shop.live_url}/demo/chat/?wa_id={CUSTOMER}&name=Ada")
    expect(page.get_by_role("heading", name=SHOP)).to_be_visible()

    # Typing text sends it as the customer.
    page.get_by_role("textbox", name="Message").fill("hi")
    page.get_by_role("button", name="Send", exact=True).click()
    [hello] = customer_messages(1)
    assert hello["type"] == "text" and hello["text"] == {"body": "hi"} and hello["from"] == CUSTOMER
    expect(bubble(page, hello["id"])).to_contain_text("hi")

    # Waco's text, formatted as WhatsApp does; its ticks turn blue once the read status comes.
    welcome = waco_sends(shop, "text", {"body": "Welcome *Ada*!\nSee https://shop.example/new"})
    expect(bubble(page, welcome).locator("strong")).to_have_text("Ada")
    expect(bubble(page, welcome).get_by_role("link", name="https://shop.example/new")).to_be_visible()
    expect(bubble(page, welcome).locator(".ticks")).to_have_attribute("data-status", "read")

    # Reply buttons: a tap sends the button's id and title back.
    buttons = [{"type": "reply", "reply": {"id": f"opaque:{i}|x", "title": f"Choice {i}"}} for i in range(3)]
    waco_sends(shop, "interactive", interactive("button", {"buttons": buttons}, footer={"text": "Pick one"}))
    page.get_by_role("button", name="Choice 1", exact=True).click()
    tapped = customer_messages(2)[-1]
    assert tapped["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "opaque:1|x", "title": "Choice 1"},
    }

    # A list: the menu button opens the sheet, a row sends list_reply.
    rows = [{"id": f"row-{i}", "title": f"Main {i}", "description": f"Tasty {i}"} for i in range(3)]
    menu = {"button": "See menu", "sections": [{"title": "Mains", "rows": rows}]}
    waco_sends(shop, "interactive", interactive("list", menu))
    page.get_by_role("button", name="See menu", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Main 2", exact=True).click()
    picked = customer_messages(3)[-1]
    assert picked["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "row-2", "title": "Main 2", "description": "Tasty 2"},
    }

    # A call-to-action link opens the URL in a new tab.
    cta = {"name": "cta_url", "parameters": {"display_text": "Pay now", "url": "https://pay.example/x"}}
    waco_sends(shop, "interactive", interactive("cta_url", cta))
    link = page.get_by_role("link", name="Pay now")
    expect(link).to_have_attribute("href", "https://pay.example/x")
    expect(link).to_have_attribute("target", "_blank")

    # A product list shows the catalog's products by name and price.
    section = {"title": "New in", "product_items": [{"product_retailer_id": r} for r in ("ABAYA-M", "BAG-1")]}
    picks = interactive(
        "product_list",
        {"catalog_id": CATALOG_ID, "sections": [section]},
        header={"type": "text", "text": "Our picks"},
    )
    waco_sends(shop, "interactive", picks)
    page.get_by_role("button", name="View items", exact=True).click()
    sheet = page.get_by_role("dialog")
    expect(sheet.get_by_role("heading", name="Our picks")).to_be_visible()
    expect(sheet).to_contain_text("Linen Abaya")
    expect(sheet).to_contain_text("320.50 AED")
    sheet.get_by_role("button", name="Close").click()

    # The catalog button: two abayas and a bag in the cart, sent as an order message.
    page.get_by_role("button", name="Catalog", exact=True).click()
    sheet.get_by_role("button", name="Add Linen Abaya to cart").click()
    sheet.get_by_role("button", name="Add one more Linen Abaya").click()
    sheet.get_by_role("button", name="Add Leather Bag to cart").click()
    sheet.get_by_role("button", name="View cart (3)").click()
    expect(sheet).to_contain_text("Total 740.00 AED")
    sheet.get_by_role("button", name="Send order").click()
    order = customer_messages(4)[-1]
    assert order["type"] == "order"
    assert order["order"]["catalog_id"] == CATALOG_ID
    assert order["order"]["product_items"] == [
        {"product_retailer_id": "ABAYA-M", "quantity": 2, "item_price": 320.5, "currency": "AED"},
        {"product_retailer_id": "BAG-1", "quantity": 1, "item_price": 99, "currency": "AED"},
    ]
    expect(bubble(page, order["id"])).to_contain_text("3 items")

    # An attached image arrives as an image message, and is shown.
    png, _ = placeholder("image")
    picture = tmp_path / "photo.png"
    picture.write_bytes(png)
    page.set_input_files("#attach", str(picture))
    image = customer_messages(5)[-1]
    assert image["type"] == "image" and image["image"]["mime_type"] == "image/png"
    expect(bubble(page, image["id"]).locator("img")).to_be_visible()

    # Waco marks the customer's first message read: its ticks turn blue.
    mark_read = {"messaging_product": "whatsapp", "status": "read", "message_id": hello["id"]}
    graph_post(shop, f"{shop.phone_number_id}/messages", mark_read)
    expect(bubble(page, hello["id"]).locator(".ticks")).to_have_attribute("data-status", "read")

    page.locator("#thread").evaluate("t => t.scrollTop = t.scrollHeight")
    screenshot(page, "demo-chat")
