"""Staff keep a conversation open: it opens at the newest message with the reply box in view, a customer's
new message and a status tick appear without a reload, and a note added stays with staff. Screenshots at a
desk and on a phone go to the test's tmp dir and to /tmp/conversation-shots/ for a person to look at."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations.models import Direction, QuickReply, Thread, ThreadNote, ThreadState, TransitionCause
from conversations.services import thread_message_record_inbound, thread_transition
from outbound.models import MessageStatus, OutboundMessage
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.browser import admin_log_in
from waco.cloud_api.client import GraphClient
from waco.contacts import services as contacts

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"
SHOTS = Path("/tmp/conversation-shots")
WIDTHS = {"desk": (1440, 900), "phone": (390, 844)}
LIVE_WITHIN_MS = 2_000


@pytest.fixture
def staff(transactional_db, monkeypatch, settings):
    settings.TIME_ZONE = "Asia/Dubai"
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)  # queued stays queued
    monkeypatch.setattr(GraphClient, "_send", lambda *a, **k: pytest.fail("the Graph API was called"))
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "conversation-shots"
    folder.mkdir()
    SHOTS.mkdir(exist_ok=True)

    def shot(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))  # the viewport: what staff see without scrolling
        shutil.copy(path, SHOTS / path.name)
        return path

    return shot


def long_thread():
    """A thread with a person, the window open, and more messages than fit on a screen."""
    thread = ThreadFactory(
        state=ThreadState.HANDOFF,
        contact__profile_name="Amal",
        contact__name="",
        phone_number__verified_name="Linen House",
    )
    start = timezone.now() - timedelta(minutes=60)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=start)
    for n in range(15):
        ThreadMessageFactory(
            thread=thread, text=f"Question {n}: do you have it in linen?", sent_at=start + timedelta(minutes=n)
        )
        ThreadMessageFactory(
            thread=thread,
            direction=Direction.OUTBOUND,
            wamid=None,
            text=f"Answer {n}: yes, in four sizes.",
            outbound=OutboundMessageFactory(status=MessageStatus.READ),
            sent_at=start + timedelta(minutes=n, seconds=30),
        )
    ThreadMessageFactory(
        thread=thread, text="مرحبا، هل العباءة الكتان متوفرة بمقاس M؟", sent_at=start + timedelta(minutes=20)
    )
    last_ours = ThreadMessageFactory(
        thread=thread,
        direction=Direction.OUTBOUND,
        wamid=None,
        text="A person will answer you here.",
        outbound=OutboundMessageFactory(status=MessageStatus.SENT),
        sent_at=start + timedelta(minutes=21),
    )
    QuickReply.objects.create(
        business_account=thread.phone_number.business_account,
        title="Delivery times",
        text="Hi {name}, we deliver in Dubai the next day.",
    )
    return thread, last_ours


def in_view(page, selector: str) -> bool:
    """The element is inside the window, and inside its scrolling box if it has one."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const r = el.getBoundingClientRect();
            const box = el.closest('#conversation-box');
            const b = box ? box.getBoundingClientRect() : {top: 0, bottom: window.innerHeight};
            return r.top >= Math.max(0, b.top) - 1 && r.bottom <= Math.min(window.innerHeight, b.bottom) + 1;
        }""",
        selector,
    )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_conversation_follows_the_customer_without_a_reload(browser, live_server, staff, shots, width):
    thread, last_ours = long_thread()
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        admin_log_in(page, live_server.url, PASSWORD, next_path=f"/admin/conversations/thread/{thread.pk}/change/")
        page.wait_for_selector("#conversation")
        assert in_view(page, "#conversation > li:last-child"), "the newest message is not in view"
        assert in_view(page, "#send-reply"), "the reply box is not in view"
        assert "+04" in page.inner_text("#conversation > li:last-child .meta")  # the shop's time zone
        shots(page, f"opened-{width}")
        page.evaluate("window.__notReloaded = true")

        thread_message_record_inbound(
            thread=thread,
            wamid=f"wamid.live-{width}",
            type="text",
            text="Can you deliver it tomorrow to Jumeirah?",
            payload={},
            sent_at=timezone.now(),
        )
        page.wait_for_selector("#conversation li:has-text('deliver it tomorrow')", timeout=LIVE_WITHIN_MS)
        assert in_view(page, "#conversation > li:last-child"), "the new message is not scrolled into view"

        OutboundMessage.objects.filter(pk=last_ours.outbound_id).update(
            status=MessageStatus.DELIVERED, updated_at=timezone.now()
        )
        page.wait_for_selector(f"[data-key='m-{last_ours.pk}'] .msg-status-delivered", timeout=LIVE_WITHIN_MS)
        assert page.evaluate("window.__notReloaded") is True

        page.select_option("#quick-reply", label="Delivery times")
        assert page.input_value("#reply-text") == "Hi Amal, we deliver in Dubai the next day."
        shots(page, f"live-{width}")

        sent_before = OutboundMessage.objects.count()
        page.fill("#note-text", f"Internal: Amal is a repeat customer ({width})")
        page.click("#add-note")
        page.wait_for_selector(".messagelist")
        assert in_view(page, "#action-result"), "what came of the post is out of view"
        note = page.locator("#conversation li.note").last
        assert "repeat customer" in note.inner_text() and "not sent to the customer" in note.inner_text()
        assert OutboundMessage.objects.count() == sent_before
        assert ThreadNote.objects.filter(thread=thread).count() == 1
        assert not thread.messages.filter(text__contains="repeat customer").exists()
        assert in_view(page, "#send-reply")
        shots(page, f"note-{width}")
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    finally:
        context.close()


def test_the_buttons_and_the_reply_form_follow_the_thread_without_a_reload(browser, live_server, staff, shots):
    thread, _ = long_thread()
    Thread.objects.filter(pk=thread.pk).update(state=ThreadState.BROWSING, state_before_handoff="")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        admin_log_in(page, live_server.url, PASSWORD, next_path=f"/admin/conversations/thread/{thread.pk}/change/")
        page.wait_for_selector("#take-over")
        assert page.locator("#reply-form").count() == 0  # the bot is answering
        page.fill("#note-text", "Half-written note")
        page.evaluate("window.__notReloaded = true")

        thread.refresh_from_db()
        thread_transition(thread=thread, name="hand_to_person", cause=TransitionCause.CUSTOMER)

        page.wait_for_selector("#hand-back", timeout=LIVE_WITHIN_MS)
        page.wait_for_selector("#reply-form", timeout=LIVE_WITHIN_MS)
        assert page.locator("#take-over").count() == 0
        assert page.input_value("#note-text") == "Half-written note"  # what staff typed survives
        assert page.evaluate("window.__notReloaded") is True
        page.select_option("#quick-reply", label="Delivery times")  # the fresh form's picker works
        assert page.input_value("#reply-text") == "Hi Amal, we deliver in Dubai the next day."
        shots(page, "panel-swapped-desk")
    finally:
        context.close()
