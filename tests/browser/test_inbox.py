"""Staff open the inbox on a desk and on a phone: the handed-off customer who waited longest is first
in "needs reply", a search by a number as people write it finds its thread, and the page never
scrolls sideways. Screenshots go to the test's tmp dir and to /tmp/inbox-shots/ for a person to look at."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from conversations import inbox
from conversations.models import Direction, ThreadState, TransitionCause
from conversations.services import thread_message_record_inbound, thread_transition
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.support.browser import admin_log_in

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"
SHOTS = Path("/tmp/inbox-shots")
WIDTHS = {"desk": (1440, 900), "phone": (390, 844)}


@pytest.fixture
def staff(transactional_db, settings):
    settings.TIME_ZONE = "Asia/Dubai"
    settings.WACO_DEFAULT_PHONE_REGION = "AE"
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "inbox-shots"
    folder.mkdir()
    SHOTS.mkdir(exist_ok=True)

    def shot(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, SHOTS / path.name)
        return path

    return shot


def wrote(thread, text: str, *, minutes_ago: float) -> None:
    thread_message_record_inbound(
        thread=thread,
        wamid=f"wamid.inbox-{thread.pk}-{minutes_ago}",
        type="text",
        text=text,
        payload={},
        sent_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def answered(thread, text: str, *, minutes_ago: float, by=None) -> None:
    message = ThreadMessageFactory(
        thread=thread,
        direction=Direction.OUTBOUND,
        wamid=None,
        text=text,
        staff_user=by,
        sent_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    inbox.message_noted(message)


@pytest.fixture
def threads(staff):
    linen = PhoneNumberFactory(display_phone_number="+971 4 555 0101", verified_name="Linen House")
    outlet = PhoneNumberFactory(display_phone_number="+971 4 555 0202", verified_name="Linen House Outlet")

    handed_off = ThreadFactory(
        phone_number=linen,
        state=ThreadState.HANDOFF,
        contact=ContactFactory(wa_id="971559871234", profile_name="Amal", name="Amal Mansour"),
    )
    wrote(handed_off, "مرحبا، هل العباءة الكتان متوفرة بمقاس M؟", minutes_ago=95)
    wrote(handed_off, "I would like to talk to a person please", minutes_ago=94)
    answered(handed_off, "A person will answer you here.", minutes_ago=94)

    mine = ThreadFactory(
        phone_number=outlet,
        assigned_to=staff,
        contact=ContactFactory(wa_id="447700900123", profile_name="Oliver Bartholomew-Featherstonehaugh"),
    )
    wrote(mine, "Can you ship to London? My order reference is W0000042.", minutes_ago=50)
    answered(mine, "Yes, we ship to the UK.", minutes_ago=45, by=staff)
    wrote(mine, "Great, and how long does it take? " * 4, minutes_ago=12)

    username = ThreadFactory(
        phone_number=linen,
        state=ThreadState.HANDOFF,
        contact=ContactFactory(wa_id=None, user_id="US.13491208655302741918", profile_name="", username="noor.k"),
    )
    wrote(username, "hi", minutes_ago=3)

    bot = ThreadFactory(phone_number=linen, contact=ContactFactory(profile_name="Sara"))
    wrote(bot, "menu", minutes_ago=1)
    answered(bot, "Here is what we have today", minutes_ago=1)

    resolved = ThreadFactory(
        phone_number=linen, assigned_to=staff, resolved_at=timezone.now(), contact=ContactFactory(profile_name="Yusuf")
    )
    wrote(resolved, "Thanks, all good!", minutes_ago=200)
    answered(resolved, "You are back with the Linen House assistant.", minutes_ago=199, by=staff)
    return {"handed_off": handed_off, "mine": mine, "username": username}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_inbox_at_a_desk_and_on_a_phone(browser, live_server, threads, shots, width):
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        admin_log_in(page, live_server.url, PASSWORD, next_path="/admin/")
        assert "threads to reply" in page.inner_text("#staff-counts")
        shots(page, f"index-{width}")
        assert no_sideways_scroll(page), "the index scrolls sideways"

        page.click("#count-threads-to-reply")
        page.wait_for_selector("#inbox-list")
        rows = page.locator("#inbox-list > li")
        assert rows.count() == 3  # the two handoffs and the thread staff have whose customer wrote last
        first = rows.first
        assert "Amal Mansour" in first.inner_text() and "+971 55 987 1234" in first.inner_text()
        assert "waiting 1\xa0hour, 35\xa0minutes" in first.inner_text()
        assert "2 unread" in first.inner_text()
        assert "Linen House" in first.inner_text()
        assert first.locator(".preview-text").get_attribute("dir") == "auto"
        assert page.inner_text("#tab-needs_reply .count") == "3"
        shots(page, f"inbox-needs-reply-{width}")
        assert no_sideways_scroll(page), "the inbox scrolls sideways"

        page.click("#tab-mine")
        page.wait_for_selector("#tab-mine.current")
        assert "Oliver" in page.inner_text("#inbox-list")
        shots(page, f"inbox-mine-{width}")
        assert no_sideways_scroll(page)

        page.click("#tab-all")
        page.wait_for_selector("#tab-all.current")
        page.fill("#inbox-q", "+971 55 987 1234")
        page.press("#inbox-q", "Enter")
        page.wait_for_selector("#inbox-clear")  # shown once a search is on
        assert "q=%2B971+55+987+1234" in page.url
        assert page.locator("#inbox-list > li").count() == 1
        assert "Amal Mansour" in page.inner_text("#inbox-list")
        shots(page, f"inbox-search-{width}")
        assert no_sideways_scroll(page)

        page.click("#inbox-list > li a")  # the row opens the thread's page, which marks it read
        page.wait_for_selector("#conversation")
        assert "العباءة" in page.inner_text("#conversation")
        assert "Nobody has this thread" in page.inner_text("#thread-assignee")
        shots(page, f"thread-{width}")
        page.click("#back-to-inbox")
        page.wait_for_selector("#inbox-list")
        assert "unread" not in page.locator("#inbox-list > li").first.inner_text()
    finally:
        context.close()


def test_a_customer_who_asks_for_a_person_comes_to_the_top_of_needs_reply_without_a_reload(
    browser, live_server, threads, shots
):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        admin_log_in(page, live_server.url, PASSWORD, next_path="/admin/conversations/inbox/?tab=needs_reply")
        page.wait_for_selector("#inbox-list")
        assert page.inner_text("#tab-needs_reply .count") == "3"
        page.evaluate("window.loadedOnce = true")  # gone if the page reloads

        newcomer = ThreadFactory(
            phone_number=threads["handed_off"].phone_number,
            contact=ContactFactory(wa_id="971501112233", profile_name="Huda"),
        )
        wrote(newcomer, "I need to speak to someone about my order", minutes_ago=120)
        thread_transition(thread=newcomer, name="hand_to_person", cause=TransitionCause.CUSTOMER)

        page.wait_for_function("document.querySelector('#inbox-list > li').innerText.includes('Huda')", timeout=2_000)
        assert page.inner_text("#tab-needs_reply .count") == "4"
        assert page.evaluate("window.loadedOnce") is True
        shots(page, "inbox-live-desk")
    finally:
        context.close()


def test_a_view_only_user_reads_the_inbox_and_the_thread_but_has_nothing_to_reply_with(
    browser, live_server, threads, shots
):
    viewer = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_thread", content_type__app_label="conversations"))
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        admin_log_in(page, live_server.url, PASSWORD, next_path="/admin/conversations/inbox/", username="viewer")
        first = page.locator("#inbox-list > li").first
        assert "Amal Mansour" in first.inner_text()
        first.locator("a").click()
        page.wait_for_selector("#conversation")
        assert "العباءة" in page.inner_text("#conversation")
        for form in ("#reply-form", "#note-form", "#reply-text"):
            assert page.locator(form).count() == 0, f"{form} is shown to a view-only user"
        shots(page, "thread-view-only-desk")
    finally:
        context.close()
