"""Staff find the messages that need a person and send them again."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from outbound.models import MessageStatus, OutboundMessage
from tests.outbound.factories import OutboundMessageFactory
from tests.support.browser import screenshot
from waco.contacts import services as contacts

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def test_failed_messages_that_need_a_person_are_listed_and_can_be_resent(page, live_server, staff, monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)
    stuck = OutboundMessageFactory(
        status=MessageStatus.FAILED, needs_person=True, error_code=100, error_detail="(#100) Invalid parameter"
    )
    # The re-send goes through the send policy: the customer wrote an hour ago, so free-form is allowed.
    contacts.window_touch(
        contact=stuck.contact, phone_number=stuck.phone_number, inbound_at=timezone.now() - timedelta(hours=1)
    )
    OutboundMessageFactory(status=MessageStatus.FAILED, needs_person=False, error_code=131026)
    OutboundMessageFactory(status=MessageStatus.READ)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/outbound/outboundmessage/%3Fneeds_person%3Dyes")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "100" in rows.first.inner_text()

    page.check(f"input[name=_selected_action][value='{stuck.pk}']")
    page.select_option("select[name=action]", "resend")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    screenshot(page, "admin-outbound-resend")

    assert "Queued 1 message(s) again." in page.content()
    stuck.refresh_from_db()
    assert (stuck.status, stuck.needs_person, stuck.attempts) == (MessageStatus.QUEUED, False, 0)
    assert OutboundMessage.objects.filter(status=MessageStatus.FAILED).count() == 1
