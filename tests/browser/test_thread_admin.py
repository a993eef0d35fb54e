"""Staff read a thread that is with a person, reply inside the window, meet the template
picker outside it, and hand the thread back to the bot."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations.models import ThreadMessage, ThreadState
from outbound.models import MessageStatus, OutboundMessage
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.support.browser import admin_log_in, screenshot
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db, monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)  # queued stays queued
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def log_in(page, live_server, next_path):
    admin_log_in(page, live_server.url, PASSWORD, next_path=next_path)


def thread_with_person(*, window_hours_ago: float, name: str):
    thread = ThreadFactory(
        state=ThreadState.HANDOFF, contact__profile_name=name, phone_number__verified_name="Linen House"
    )
    inbound_at = timezone.now() - timedelta(hours=window_hours_ago)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=inbound_at)
    ThreadMessageFactory(thread=thread, text="Is the linen abaya in size M?", sent_at=inbound_at)
    ThreadMessageFactory(thread=thread, text="agent", sent_at=inbound_at + timedelta(seconds=5))
    return thread


def test_staff_reply_in_the_window_then_hand_the_thread_back(page, live_server, staff):
    thread = thread_with_person(window_hours_ago=1, name="Amina")
    log_in(page, live_server, f"/admin/conversations/thread/{thread.pk}/change/")

    conversation = page.locator("#conversation")
    assert "Is the linen abaya in size M?" in conversation.inner_text()
    assert "Service window open until" in page.inner_text("#window-status")
    page.fill("#reply-text", "Yes, size M is in stock. Shall I put one aside?")
    page.click("#send-reply")
    page.wait_for_selector(".messagelist")
    screenshot(page, "admin-thread-reply")

    assert "Queued for sending." in page.inner_text(".messagelist")
    last = conversation.locator("li").last
    assert "Shall I put one aside?" in last.inner_text()
    assert "Queued" in last.locator(".msg-status").inner_text()
    assert "staff" in last.locator(".meta").inner_text()
    reply = OutboundMessage.objects.get()
    assert reply.status == MessageStatus.QUEUED
    assert ThreadMessage.objects.get(outbound=reply).staff_user == staff

    page.click("#hand-back")
    page.wait_for_selector("#take-over")
    screenshot(page, "admin-thread-handed-back")
    assert "Handed back" in page.inner_text(".messagelist")
    assert "Browsing" in page.inner_text("#thread-state")
    assert "You are back with the Linen House assistant" in conversation.locator("li").last.inner_text()
    thread.refresh_from_db()
    assert thread.state == ThreadState.BROWSING
    assert "hand_back" in page.inner_text("#transitions")


def test_outside_the_window_the_textarea_is_disabled_and_a_template_is_sent(page, live_server, staff):
    thread = thread_with_person(window_hours_ago=30, name="Bilal")
    contacts.consent_record(
        contact=thread.contact,
        category=ConsentCategory.UTILITY,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=timezone.now(),
    )
    template = TemplateFactory(business_account=thread.phone_number.business_account, name="order_followup")
    PurposeTemplateFactory(purpose=PurposeFactory(key="staff_followup"), template=template)
    log_in(page, live_server, f"/admin/conversations/thread/{thread.pk}/change/")

    assert "Service window closed since" in page.inner_text("#window-status")
    assert page.locator("#reply-text").is_disabled()
    assert "only an approved template can reach them" in page.inner_text("#window-rule")
    picker = page.locator("#template-picker")
    assert "order_followup" in picker.inner_text()
    screenshot(page, "admin-thread-window-closed")

    offer = picker.locator("form.template-offer").first
    offer.locator("input[name='param:customer']").fill("Bilal")
    offer.locator("input[name='param:order_id']").fill("A-1042")
    offer.locator("button[type=submit]").click()
    page.wait_for_selector(".messagelist")
    screenshot(page, "admin-thread-template-sent")

    assert "Queued for sending." in page.inner_text(".messagelist")
    last = page.locator("#conversation li").last
    assert "Hi Bilal, your order A-1042 has shipped." in last.inner_text()
    assert "template order_followup" in last.locator(".meta").inner_text()
    assert OutboundMessage.objects.get().template_name == "order_followup"
