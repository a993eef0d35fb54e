"""The demo chat page plays a customer who shows the shop only a username: the page sends
their business-scoped user id (BSUID), never a phone, and the shop's answer reaches them."""

import os

import pytest
from playwright.sync_api import expect

from tests.support.chat_page import SHOP, says, shop_says
from waco.contacts.models import Contact
from waco.sandbox import services as sandbox

pytestmark = pytest.mark.worker
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
BSUID = "AE.5512093384710029384"


def test_a_username_only_customer_chats_on_the_page(page, chat_shop):
    page.goto(f"{chat_shop.live_url}/demo/chat/?wa_id={BSUID}&name=Zara")
    expect(page.locator("#wa-id")).to_have_value(BSUID)

    says(page, "hi")
    shop_says(page, f"Welcome to {SHOP}. What would you like to do?")

    contact = Contact.objects.get(user_id=BSUID)
    assert contact.wa_id is None
    first = sandbox.outbox_list(config=sandbox.config_get(), recipient=BSUID)[0]
    assert "to" not in first and first["recipient"] == BSUID
