"""The demo chat page in a browser: the shop its journeys play in, and a person typing and reading there."""

from playwright.sync_api import expect

SHOP = "Linen House"
CATALOG_ID = "400000000000077"
PASSWORD = "a-strong-staff-password-123"
# A reply goes webhook -> worker -> Graph send -> outbox -> the page's next poll.
REPLY_TIMEOUT = 20_000


def says(page, text):
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(mine(page).last).to_contain_text(text)


def mine(page):
    return page.locator(".msg--mine")


def shop_says(page, text, count=1):
    """The shop's messages containing `text`, once there are `count` of them."""
    found = page.locator(".msg--theirs", has_text=text)
    expect(found).to_have_count(count, timeout=REPLY_TIMEOUT)
    return found.last
