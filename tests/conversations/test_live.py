"""The conversation page follows the thread without a reload (conversations.live), and staff's notes stay internal."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations import live, staff
from conversations.models import Direction, ThreadMessage, ThreadNote, ThreadState
from conversations.services import thread_message_record_inbound
from outbound.models import MessageStatus, OutboundMessage
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from waco.cloud_api.client import GraphClient
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_outbox_drain(monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)


@pytest.fixture
def no_graph(monkeypatch):
    calls = []
    monkeypatch.setattr(GraphClient, "_send", lambda self, *a, **k: calls.append(a) or pytest.fail("Graph called"))
    return calls


def page_url(thread):
    return reverse("admin:conversations_thread_change", args=[thread.pk])


def live_url(thread):
    return reverse("admin:conversations_thread_live", args=[thread.pk])


def customer_wrote(thread, text="Is the abaya in stock?", *, n=0):
    return thread_message_record_inbound(
        thread=thread,
        wamid=f"wamid.live-{thread.pk}-{n}-{text[:8]}",
        type="text",
        text=text,
        payload={},
        sent_at=timezone.now(),
    )


def ours(thread, text="Here is the menu", *, status=MessageStatus.SENT):
    out = OutboundMessageFactory(status=status)
    return ThreadMessageFactory(
        thread=thread, direction=Direction.OUTBOUND, wamid=None, text=text, outbound=out, sent_at=timezone.now()
    )


def poll(client, thread, cursor: dict):
    response = client.get(live_url(thread), cursor)
    assert response.status_code == 200, response.status_code
    return response.json()


def page_cursor(client, thread) -> dict:
    """The cursor the page starts polling from, as the page carries it."""
    response = client.get(page_url(thread))
    url = response.context["live_url"]
    return dict(pair.split("=", 1) for pair in url.split("?", 1)[1].split("&"))


# --- the page --------------------------------------------------------------------------


def test_the_page_shows_each_message_in_its_own_direction_at_the_shops_time(admin_client, settings):
    settings.TIME_ZONE = "Asia/Dubai"
    thread = ThreadFactory()
    ThreadMessageFactory(thread=thread, text="مرحبا، هل العباءة متوفرة؟")
    page = admin_client.get(page_url(thread)).content.decode()
    assert 'dir="auto">مرحبا، هل العباءة متوفرة؟</div>' in page
    assert "+04" in page  # Dubai's time, not UTC
    assert 'id="conversation-box"' in page and "data-live-url=" in page


def test_the_page_lists_notes_among_the_messages_by_time(admin_client):
    thread = ThreadFactory()
    ThreadMessageFactory(thread=thread, text="first", sent_at=timezone.now() - timedelta(minutes=5))
    ThreadNote.objects.create(thread=thread, text="a note between them")
    ThreadMessageFactory(thread=thread, text="last", sent_at=timezone.now() + timedelta(minutes=5))
    page = admin_client.get(page_url(thread)).content.decode()
    assert page.index("first") < page.index("a note between them") < page.index(">last<")
    assert 'class="note"' in page and "not sent to the customer" in page


# --- the live endpoint -----------------------------------------------------------------


def test_a_new_customer_message_comes_back_once_the_overlap_has_passed(admin_client):
    thread = ThreadFactory()
    customer_wrote(thread, "hello", n=1)
    cursor = page_cursor(admin_client, thread)
    assert poll(admin_client, thread, {"after": cursor["after"], "notes_after": 0})["rows"] == []

    message = customer_wrote(thread, "is anyone there?", n=2)
    data = poll(admin_client, thread, cursor)
    keys = [row["key"] for row in data["rows"]]
    assert f"m-{message.pk}" in keys
    row = next(row for row in data["rows"] if row["key"] == f"m-{message.pk}")
    assert "is anyone there?" in row["html"] and 'dir="auto"' in row["html"]
    assert int(data["cursor"]["after"]) == message.pk


def test_a_status_tick_comes_back_as_the_changed_row():
    thread = ThreadFactory()
    message = ours(thread, status=MessageStatus.SENT)
    start = live.transcript(thread=thread, now=timezone.now() + timedelta(minutes=1)).cursor
    assert live.live_changes(thread=thread, cursor=start).rows == []  # nothing changed since

    OutboundMessage.objects.filter(pk=message.outbound_id).update(
        status=MessageStatus.READ, updated_at=timezone.now() + timedelta(minutes=2)
    )
    rows = live.live_changes(thread=thread, cursor=start).rows
    assert [(row["key"], row["status"]) for row in rows] == [(f"m-{message.pk}", MessageStatus.READ)]


def test_a_bot_reply_and_a_note_come_back_and_the_cursor_moves_past_them():
    thread = ThreadFactory()
    later = timezone.now() + timedelta(minutes=1)
    cursor = live.transcript(thread=thread, now=later).cursor
    reply = ours(thread, "Here is the menu")
    note = ThreadNote.objects.create(thread=thread, text="VIP customer")
    changes = live.live_changes(thread=thread, cursor=cursor, now=later)
    assert [row["key"] for row in changes.rows] == [f"m-{reply.pk}", f"n-{note.pk}"]
    assert (changes.cursor.after, changes.cursor.notes_after) == (reply.pk, note.pk)
    assert live.live_changes(thread=thread, cursor=changes.cursor, now=later).rows == []


def test_a_poll_reads_the_same_number_of_queries_however_long_the_thread(admin_client):
    def queries_per_poll(thread) -> int:
        cursor = page_cursor(admin_client, thread)
        customer_wrote(thread, "new one", n=999)
        ThreadNote.objects.create(thread=thread, text="note")
        with CaptureQueriesContext(connection) as queries:
            data = poll(admin_client, thread, cursor)
        assert data["rows"]
        return len(queries)

    short = ThreadFactory()
    ours(short)
    long = ThreadFactory()
    for n in range(40):
        customer_wrote(long, f"message {n}", n=n)
        ours(long, f"answer {n}")
    assert queries_per_poll(short) == queries_per_poll(long) == 6, "session, user, thread, messages, notes, mark read"


def test_the_endpoint_shows_only_its_thread_to_a_viewer_and_nothing_to_others(viewer):
    thread, other = ThreadFactory(), ThreadFactory()
    mine = customer_wrote(thread, "mine", n=1)
    customer_wrote(other, "someone else's", n=1)
    data = poll(viewer, thread, {"after": 0})
    assert [row["key"] for row in data["rows"]] == [f"m-{mine.pk}"]
    assert viewer.post(live_url(thread)).status_code == 405

    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client = Client()
    client.force_login(nobody)
    assert client.get(live_url(thread)).status_code == 403
    client.logout()
    assert client.get(live_url(thread)).status_code == 302  # to the log-in page


def test_nonsense_cursors_count_as_nothing_seen(admin_client):
    thread = ThreadFactory()
    customer_wrote(thread)
    data = poll(admin_client, thread, {"after": "x", "notes_after": "-3", "since": "yesterday"})
    assert len(data["rows"]) == 1


def test_a_poll_with_a_new_customer_message_marks_the_thread_read(admin_client):
    thread = ThreadFactory()
    cursor = page_cursor(admin_client, thread)
    customer_wrote(thread, "new", n=3)
    poll(admin_client, thread, cursor)
    thread.refresh_from_db()
    assert thread.staff_read_at is not None and thread.staff_read_at >= thread.last_customer_message_at


# --- notes -----------------------------------------------------------------------------


def test_a_note_is_kept_and_shown_and_never_reaches_the_customer(admin_client, no_graph):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=timezone.now())
    response = admin_client.post(
        reverse("admin:conversations_thread_note", args=[thread.pk]), {"note": " VIP: be kind "}
    )
    assert response.status_code == 302
    note = ThreadNote.objects.get(thread=thread)
    assert note.text == "VIP: be kind" and note.author.username == "admin"
    assert not OutboundMessage.objects.exists() and not ThreadMessage.objects.exists() and no_graph == []
    page = admin_client.get(page_url(thread)).content.decode()
    assert "VIP: be kind" in page and "Internal note" in page


def test_an_empty_note_is_refused_and_a_viewer_cannot_add_one(admin_client, viewer):
    thread = ThreadFactory()
    with pytest.raises(staff.StaffRefusal):
        staff.note_add(thread=thread, user=None, text="   ")
    assert viewer.post(reverse("admin:conversations_thread_note", args=[thread.pk]), {"note": "x"}).status_code == 403
    assert not ThreadNote.objects.exists()
