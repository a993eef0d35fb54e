"""Staff manage business accounts and numbers in the admin: the token never shows."""

import os

import pytest
from django.contrib.auth import get_user_model

from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.support.browser import admin_log_in, screenshot
from waco.channels.models import BusinessAccount, PhoneNumber

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TOKEN = "EAAG-real-looking-system-user-token-SECRET-9f3b"
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def log_in(page, live_server):
    admin_log_in(page, live_server.url, PASSWORD)


def test_the_access_token_is_never_shown_back_and_blank_keeps_it(page, live_server, staff):
    account = BusinessAccountFactory(access_token=TOKEN)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/channels/businessaccount/")
    assert "…9f3b" in page.content()
    page.goto(f"{live_server.url}/admin/channels/businessaccount/{account.pk}/change/")
    assert TOKEN not in page.content()
    assert page.input_value("#id_access_token") == ""
    page.fill("#id_name", "Renamed Shop")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    screenshot(page, "admin-business-accounts")

    account = BusinessAccount.objects.get(pk=account.pk)
    assert (account.name, account.access_token) == ("Renamed Shop", TOKEN)


def test_staff_pause_a_number_from_the_admin(page, live_server, staff):
    number = PhoneNumberFactory()
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/channels/phonenumber/")
    page.check(f"input[name=_selected_action][value='{number.pk}']")
    page.select_option("select[name=action]", "pause_sending")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")

    assert "Paused 1 number(s)." in page.content()
    number = PhoneNumber.objects.get(pk=number.pk)
    assert number.sending_paused
    assert number.sending_paused_reason == "Paused from the admin by staff"
