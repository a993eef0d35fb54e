"""The staff inbox: tabs, waiting order, counts, unread, search, permissions, query counts, and the
thread row kept current wherever a message is written."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations import inbox, services, staff
from conversations.models import Direction, Thread, ThreadState
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import OrderFactory
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from waco.alerts.models import Alert
from waco.contacts import services as contacts
from waco.roles import SUPPORT_AGENT

pytestmark = pytest.mark.django_db

INBOX = "/admin/conversations/inbox/"
NOW = timezone.now()


def said(thread, text="Hello?", *, minutes_ago: float, direction=Direction.INBOUND, staff_user=None):
    """A message of the thread, written as the send path and the dialogue write them (the row kept current)."""
    ours = {"wamid": None} if direction == Direction.OUTBOUND else {}
    message = ThreadMessageFactory(
        thread=thread,
        direction=direction,
        text=text,
        staff_user=staff_user,
        sent_at=NOW - timedelta(minutes=minutes_ago),
        **ours,
    )
    inbox.message_noted(message)
    return message


def agent(name="agent") -> User:
    user = User.objects.create_user(name, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_AGENT.group))
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def keys(threads) -> list[str]:
    return [t.contact.profile_name for t in threads]


@pytest.fixture
def me():
    return agent("me")


@pytest.fixture
def world(me):
    """One thread for each case the tabs tell apart, named for it."""
    number = PhoneNumberFactory()
    other = agent("other")

    def thread(name, **kwargs):
        return ThreadFactory(phone_number=number, contact__profile_name=name, **kwargs)

    handoff_long = thread("handoff-long", state=ThreadState.HANDOFF)
    said(handoff_long, "agent please", minutes_ago=90)
    handoff_short = thread("handoff-short", state=ThreadState.HANDOFF, assigned_to=me)
    said(handoff_short, "hello", minutes_ago=5)
    mine_customer_last = thread("mine-customer-last", assigned_to=me)
    said(mine_customer_last, "and the price?", minutes_ago=30)
    mine_answered = thread("mine-answered", assigned_to=me)
    said(mine_answered, "thanks", minutes_ago=20)
    said(mine_answered, "You're welcome", minutes_ago=19, direction=Direction.OUTBOUND, staff_user=me)
    others = thread("others-customer-last", assigned_to=other)
    said(others, "still there?", minutes_ago=10)
    bot = thread("bot")
    said(bot, "menu", minutes_ago=3)
    said(bot, "Here is the menu", minutes_ago=3, direction=Direction.OUTBOUND)
    resolved = thread("resolved", assigned_to=me, resolved_at=NOW - timedelta(hours=1))
    said(resolved, "ok bye", minutes_ago=2)
    thread("silent")  # no message at all
    return {"me": me, "other": other, "number": number}


# --- tabs, order, counts --------------------------------------------------------------------


def test_each_tab_holds_its_threads_longest_wait_first(world, me):
    tab = {key: keys(inbox.inbox_threads(user=me, tab=key)) for key in inbox.TABS}
    # the customer waits in each; the handoff waited longest; a staff thread whose customer wrote last
    assert tab["needs_reply"] == ["handoff-long", "mine-customer-last", "others-customer-last", "handoff-short"]
    assert tab["mine"] == ["mine-customer-last", "handoff-short", "mine-answered"]
    assert tab["unassigned"] == ["handoff-long"]
    assert tab["resolved"] == ["resolved"]
    assert tab["all"][:4] == tab["needs_reply"]  # then the threads nobody waits in, the liveliest first
    assert tab["all"][4:] == ["resolved", "bot", "mine-answered", "silent"]


def test_the_counts_are_the_tabs_sizes_and_the_page_shows_them(world, me):
    counts = inbox.tab_counts(user=me)
    assert counts == {"needs_reply": 4, "mine": 3, "unassigned": 1, "all": 8, "resolved": 1}
    page = client_for(me).get(INBOX).content.decode()
    for key, count in counts.items():
        assert f'id="tab-{key}"' in page
        assert f'<span class="count">{count}</span>' in page
    assert page.index("handoff-long") < page.index("mine-customer-last") < page.index("handoff-short")


@pytest.mark.parametrize("tab", list(inbox.TABS))
def test_every_tab_opens_and_links_rows_to_the_thread_page(world, me, tab):
    response = client_for(me).get(INBOX, {"tab": tab})
    assert response.status_code == 200
    page = response.content.decode()
    for thread in inbox.inbox_threads(user=me, tab=tab):
        assert reverse("admin:conversations_thread_change", args=[thread.pk]) in page
    assert 'class="current" aria-current="page"' in page.split(f'id="tab-{tab}"')[1].split(">")[0] + ">"


def test_a_row_shows_customer_number_business_number_preview_wait_and_unread(me):
    number = PhoneNumberFactory(display_phone_number="+971 4 555 0101", verified_name="Linen House")
    thread = ThreadFactory(
        phone_number=number,
        state=ThreadState.HANDOFF,
        contact=ContactFactory(wa_id="971559871234", profile_name="Amal", name="Amal M."),
    )
    # said() dates messages from NOW, read when the module was collected: the page is read at NOW too,
    # or a suite that reaches this test minutes later sees a longer wait.
    with time_machine.travel(NOW, tick=False):
        said(thread, "مرحبا، هل العباءة متوفرة؟", minutes_ago=125)
        said(thread, "agent", minutes_ago=124)
        page = client_for(me).get(INBOX).content.decode()
    assert "Amal M." in page and "+971 55 987 1234" in page
    assert "Linen House" in page and "+971 4 555 0101" in page
    assert '<span class="preview-text" dir="auto">agent</span>' in page
    assert "waiting 2\xa0hours, 5\xa0minutes" in page
    assert "2 unread" in page


def test_a_customer_known_by_bsuid_only_shows_the_bsuid(me):
    thread = ThreadFactory(
        state=ThreadState.HANDOFF, contact=ContactFactory(wa_id=None, user_id="US.13491208655302741918")
    )
    said(thread, minutes_ago=1)
    assert "US.13491208655302741918" in client_for(me).get(INBOX).content.decode()


def test_times_are_the_shops_not_utc(me, settings):
    settings.TIME_ZONE = "Asia/Dubai"
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    message = ThreadMessageFactory(thread=thread, sent_at=datetime(2026, 12, 6, 10, 5, tzinfo=UTC))
    inbox.message_noted(message)
    page = client_for(me).get(INBOX).content.decode()
    assert "6 Dec, 14:05" in page and "2026-12-06 14:05:00 +04" in page
    assert "(Asia/Dubai)" in page
    assert "10:05" not in page


# --- the thread row kept current --------------------------------------------------------------


def test_the_bot_answers_end_the_wait_but_not_once_a_person_has_the_thread(me):
    thread = ThreadFactory()
    said(thread, "menu", minutes_ago=10)
    said(thread, "Here is the menu", minutes_ago=10, direction=Direction.OUTBOUND)
    thread.refresh_from_db()
    assert thread.waiting_since is None and thread.last_message_direction == Direction.OUTBOUND

    asked = said(thread, "agent", minutes_ago=8)
    Thread.objects.filter(pk=thread.pk).update(state=ThreadState.HANDOFF)  # the turn moved it, then said so
    said(thread, "A person will answer you here.", minutes_ago=8, direction=Direction.OUTBOUND)
    said(thread, "hello??", minutes_ago=2)
    thread.refresh_from_db()
    assert thread.waiting_since == asked.sent_at  # the oldest unanswered message
    assert thread.last_customer_message_at == NOW - timedelta(minutes=2)
    assert thread.last_message_preview == "hello??"

    said(thread, "Hi, I'm here", minutes_ago=1, direction=Direction.OUTBOUND, staff_user=me)
    thread.refresh_from_db()
    assert thread.waiting_since is None
    assert (thread.last_message_direction, thread.last_message_preview) == ("out", "Hi, I'm here")


def test_a_message_recorded_late_does_not_displace_the_last_one():
    thread = ThreadFactory()
    said(thread, "newest", minutes_ago=1)
    said(thread, "older, delivered late", minutes_ago=5)
    thread.refresh_from_db()
    assert thread.last_message_preview == "newest"
    assert thread.last_customer_message_at == NOW - timedelta(minutes=1)
    assert thread.waiting_since == NOW - timedelta(minutes=5)


def test_the_services_keep_the_row_current_take_assigns_and_hand_back_resolves(me, monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)
    thread = ThreadFactory()
    sent_at = timezone.now() - timedelta(minutes=3)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=sent_at)
    services.thread_message_record_inbound(
        thread=thread, wamid="wamid.inbox-1", type="text", text="Is  size M\nin stock?", payload={}, sent_at=sent_at
    )
    thread.refresh_from_db()
    assert (thread.waiting_since, thread.last_message_preview) == (sent_at, "Is size M in stock?")

    staff.thread_take(thread=thread, user=me)
    assert keys(inbox.inbox_threads(user=me, tab="mine")) == [thread.contact.profile_name]
    staff.staff_reply(thread=thread, user=me, text="Yes, it is.")
    thread.refresh_from_db()
    assert thread.waiting_since is None and thread.last_message_preview == "Yes, it is."

    staff.thread_hand_back(thread=thread, user=me)
    thread.refresh_from_db()
    assert thread.resolved_at is not None and thread.state == ThreadState.BROWSING
    assert [t.pk for t in inbox.inbox_threads(user=me, tab="resolved")] == [thread.pk]
    assert not inbox.inbox_threads(user=me, tab="mine").exists()

    services.thread_transition(thread=thread, name="hand_to_person", cause="customer")  # asked again
    assert [t.pk for t in inbox.inbox_threads(user=me, tab="needs_reply")] == [thread.pk]
    assert not inbox.inbox_threads(user=me, tab="resolved").exists()


# --- unread -----------------------------------------------------------------------------------


def test_unread_counts_the_customers_messages_since_staff_opened_the_thread(me):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    said(thread, "one", minutes_ago=3)
    said(thread, "two", minutes_ago=2)
    said(thread, "ours", minutes_ago=1, direction=Direction.OUTBOUND, staff_user=me)
    assert inbox.inbox_threads(user=me).get().unread == 2

    client = client_for(me)
    assert client.get(reverse("admin:conversations_thread_change", args=[thread.pk])).status_code == 200
    assert inbox.inbox_threads(user=me).get().unread == 0

    said(thread, "three", minutes_ago=0)
    assert inbox.inbox_threads(user=me).get().unread == 1
    assert "1 unread" in client.get(INBOX).content.decode()


def test_a_user_who_may_not_see_the_thread_does_not_mark_it_read(me):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    said(thread, minutes_ago=1)
    stranger = User.objects.create_user("stranger", password="x", is_staff=True)
    assert client_for(stranger).get(reverse("admin:conversations_thread_change", args=[thread.pk])).status_code == 403
    thread.refresh_from_db()
    assert thread.staff_read_at is None


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def searchable(me, settings):
    settings.WACO_DEFAULT_PHONE_REGION = "AE"
    number = PhoneNumberFactory()
    amal = ThreadFactory(
        phone_number=number, contact=ContactFactory(wa_id="971559871234", profile_name="Amal", name="Amal Mansour")
    )
    said(amal, "Do you have the linen abaya in size M?", minutes_ago=5)
    OrderFactory(contact=amal.contact, phone_number=number, reference="WX42QK7")
    bsuid = ThreadFactory(
        phone_number=number,
        contact=ContactFactory(wa_id=None, user_id="US.13491208655302741918", profile_name="Noor"),
    )
    said(bsuid, "hi", minutes_ago=4)
    other = ThreadFactory(phone_number=number, contact=ContactFactory(wa_id="971501112233", profile_name="Omar"))
    said(other, "where is my parcel", minutes_ago=3)
    return {"amal": amal, "bsuid": bsuid, "other": other}


@pytest.mark.parametrize(
    "typed, found",
    [
        ("+971 55 987 1234", "amal"),
        ("0559871234", "amal"),  # national, in the default region AE
        ("055 987 1234", "amal"),
        ("971559871234", "amal"),
        ("+971559871234", "amal"),
        ("00971559871234", "amal"),
        ("987 1234", "amal"),  # part of the number
        ("٠٥٥٩٨٧١٢٣٤", "amal"),  # Arabic-Indic digits
        ("US.13491208655302741918", "bsuid"),
        ("US.1349120", "bsuid"),
        ("Mansour", "amal"),  # the merchant's name for them
        ("noor", "bsuid"),  # WhatsApp's profile name
        ("WX42QK7", "amal"),  # an order's reference
        ("wx42qk7", "amal"),
        ("LINEN abaya", "amal"),  # words of a message
        ("parcel", "other"),
    ],
)
def test_search_finds_the_thread_in_every_format(searchable, me, typed, found):
    threads = inbox.inbox_threads(user=me, tab="all", search=typed)
    assert [t.pk for t in threads] == [searchable[found].pk]


def test_search_on_the_page_keeps_the_tab_and_counts_what_it_finds(searchable, me):
    Thread.objects.filter(pk=searchable["amal"].pk).update(state=ThreadState.HANDOFF)
    page = client_for(me).get(INBOX, {"tab": "all", "q": "+971 55 987 1234"}).content.decode()
    assert "Amal Mansour" in page and "Noor" not in page and "Omar" not in page
    assert 'value="+971 55 987 1234"' in page
    assert "?tab=needs_reply&amp;q=%2B971+55+987+1234" in page
    assert inbox.tab_counts(user=me, search="0559871234") == {
        "needs_reply": 1,
        "mine": 0,
        "unassigned": 1,
        "all": 1,
        "resolved": 0,
    }
    assert "No thread in this tab matches" in client_for(me).get(INBOX, {"q": "nothing like this"}).content.decode()


# --- permissions --------------------------------------------------------------------------------


def test_who_may_open_the_inbox(me):
    assert client_for(me).get(INBOX).status_code == 200  # support agents: they view threads
    nobody = User.objects.create_user("nobody", password="x", is_staff=True)
    assert client_for(nobody).get(INBOX).status_code == 403
    anonymous = Client().get(INBOX)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    catalog = User.objects.create_user("catalog", password="x", is_staff=True)
    catalog.groups.add(Group.objects.get(name="Catalog manager"))
    assert client_for(catalog).get(INBOX).status_code == 403


def test_the_inbox_changes_nothing_itself(me):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    client = client_for(User.objects.create_superuser("root", password="x"))
    assert client.post(INBOX, {"action": "delete_selected", "_selected_action": [thread.pk]}).status_code == 302
    assert Thread.objects.filter(pk=thread.pk).exists()
    assert client.get(reverse("admin:conversations_inbox_change", args=[thread.pk])).status_code == 403


def test_assigning_needs_the_change_permission(me):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    url = reverse("admin:conversations_thread_assign", args=[thread.pk])
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(*Group.objects.get(name=SUPPORT_AGENT.group).permissions.filter(codename="view_thread"))
    assert client_for(viewer).get(INBOX).status_code == 200
    assert client_for(viewer).post(url).status_code == 403
    client = client_for(me)
    assert client.post(url).status_code == 302
    assert keys(inbox.inbox_threads(user=me, tab="mine")) == [thread.contact.profile_name]
    page = client.get(reverse("admin:conversations_thread_change", args=[thread.pk])).content.decode()
    assert 'id="unassign"' in page and "With <strong>me</strong>" in page
    assert client.post(url, {"to": "nobody"}).status_code == 302
    assert keys(inbox.inbox_threads(user=me, tab="unassigned")) == [thread.contact.profile_name]


# --- cost -----------------------------------------------------------------------------------------


def threads_waiting(n: int, number) -> None:
    for i in range(n):
        thread = ThreadFactory(
            phone_number=number,
            state=ThreadState.HANDOFF,
            assigned_to=User.objects.first() if i % 2 else None,
        )
        said(thread, f"message {i}", minutes_ago=i + 1)
        OrderFactory(contact=thread.contact, phone_number=number)


@pytest.mark.parametrize("tab", list(inbox.TABS))
def test_a_page_costs_the_same_few_queries_for_3_threads_as_for_30(me, tab):
    number = PhoneNumberFactory()
    client = client_for(me)
    client.get(INBOX)  # the session and the user's permissions, as on any admin page

    def cost(search=""):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(INBOX, {"tab": tab, **({"q": search} if search else {})})
        assert response.status_code == 200
        return len(queries)

    threads_waiting(3, number)
    few, few_searched = cost(), cost("message")
    threads_waiting(27, number)
    many, many_searched = cost(), cost("message")
    assert many == few and many_searched == few_searched
    assert many <= 8, f"{many} queries"


def test_the_functions_alone_cost_two_queries(me, django_assert_num_queries):
    threads_waiting(5, PhoneNumberFactory())
    with django_assert_num_queries(2):  # the counts, then the page's rows
        page = inbox.inbox_page(user=me, tab="needs_reply")
        rows = [(inbox.customer_label(t), t.phone_number.display_phone_number, t.unread) for t in page.page]
    assert len(rows) == 5


# --- the admin's front ---------------------------------------------------------------------------


def test_the_admin_index_leads_with_what_waits_and_the_menu_with_the_inbox(world, me):
    paid = OrderFactory(status="paid")
    OrderFactory(status="packed", phone_number=paid.phone_number)
    OrderFactory(status="packed", phone_number=paid.phone_number)
    Alert.objects.create(kind="walk", severity="warning", subject="a number", opened_at=timezone.now())
    root = User.objects.create_superuser("root", password="x")
    page = client_for(root).get("/admin/").content.decode()
    counts = page.index('id="staff-counts"')
    assert counts < page.index('class="app-conversations')  # above the model list
    assert page.index('class="app-conversations') < page.index('class="app-catalog')  # the inbox's app first
    assert 'href="/admin/conversations/inbox/?tab=needs_reply" id="count-threads-to-reply"' in page
    for key, figure, url in [
        ("threads-to-reply", 4, "/admin/conversations/inbox/?tab=needs_reply"),
        ("orders-to-pack", 1, "/admin/checkout/order/?status__exact=paid"),
        ("orders-to-ship", 2, "/admin/checkout/order/?status__exact=packed"),
        ("open-alerts", 1, "/admin/alerts/alert/?resolved_at__isempty=1"),
    ]:
        link = page.split(f'id="count-{key}">')[1]
        assert link.lstrip().startswith(f'<span class="figure">{figure}</span>'), key
        listed = client_for(root).get(url)
        assert listed.status_code == 200 and "?e=1" not in listed.get("Location", ""), url
    conversations = page.split('class="app-conversations')[1]
    assert conversations.index("/admin/conversations/inbox/") < conversations.index("/admin/conversations/keyword/")


def test_the_index_shows_an_agent_only_what_they_may_see(me):
    page = client_for(me).get("/admin/").content.decode()
    assert 'id="count-threads-to-reply"' in page
    assert 'id="count-orders-to-pack"' in page  # agents view orders
    assert 'id="count-open-alerts"' not in page


# --- the backfill -----------------------------------------------------------------------------------


def test_the_migration_fills_the_rows_of_existing_threads(me):
    migration = importlib.import_module("conversations.migrations.0009_staff_inbox")
    bot = ThreadFactory()
    ThreadMessageFactory(thread=bot, text="menu", sent_at=NOW - timedelta(minutes=9))
    ThreadMessageFactory(thread=bot, direction="out", wamid=None, text="Menu", sent_at=NOW - timedelta(minutes=9))
    person = ThreadFactory(state=ThreadState.HANDOFF)
    ThreadMessageFactory(thread=person, text="hi", sent_at=NOW - timedelta(minutes=30))
    ThreadMessageFactory(thread=person, direction="out", wamid=None, text="Hi!", sent_at=NOW - timedelta(minutes=29))
    ThreadMessageFactory(thread=person, text="agent", sent_at=NOW - timedelta(minutes=20))
    person.transitions.create(
        transition="hand_to_person",
        from_state="browsing",
        to_state="handoff",
        cause="staff",
        actor=me,
        created_at=NOW - timedelta(minutes=20),
    )
    ThreadMessageFactory(
        thread=person, direction="out", wamid=None, text="A person will answer", sent_at=NOW - timedelta(minutes=19)
    )
    ThreadMessageFactory(thread=person, text="anyone?", sent_at=NOW - timedelta(minutes=10))
    handed_back = ThreadFactory()
    handed_back.transitions.create(
        transition="hand_back", from_state="handoff", to_state="browsing", cause="staff", created_at=NOW
    )
    Thread.objects.update(last_message_at=None, waiting_since=None, assigned_to=None, resolved_at=None)

    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
        cursor.execute(migration.BACKFILL_STAFF)

    bot.refresh_from_db()
    person.refresh_from_db()
    handed_back.refresh_from_db()
    assert (bot.last_message_direction, bot.last_message_preview, bot.waiting_since) == ("out", "Menu", None)
    assert person.waiting_since == NOW - timedelta(minutes=20)  # since "agent": the bot's note is no answer
    assert person.last_customer_message_at == NOW - timedelta(minutes=10)
    assert (person.last_message_preview, person.assigned_to) == ("anyone?", me)
    assert handed_back.resolved_at == NOW and handed_back.last_message_at is None
    assert apps.get_model("conversations", "Inbox")._meta.proxy


def test_the_threads_list_searches_as_the_inbox_does(searchable, me):
    page = client_for(me).get(reverse("admin:conversations_thread_changelist"), {"q": "0559871234"}).content.decode()
    assert "Amal Mansour" in page and "Omar" not in page


def test_a_long_tab_is_paged_keeping_the_order_and_the_search(world, me, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 3)
    first = inbox.inbox_page(user=me, tab="all")
    second = inbox.inbox_page(user=me, tab="all", page=2)
    assert keys(first.page) + keys(second.page) + keys(inbox.inbox_page(user=me, tab="all", page=3).page) == keys(
        inbox.inbox_threads(user=me, tab="all")
    )
    assert first.page.paginator.num_pages == 3
    page = client_for(me).get(INBOX, {"tab": "all", "q": "e", "page": 2}).content.decode()
    assert "?tab=all&amp;q=e" in page and "Page 2 of" in page  # the previous page's link keeps the search


def test_the_pages_poll_gets_the_tabs_and_rows_alone_at_the_pages_cost(me):
    number = PhoneNumberFactory()
    client = client_for(me)
    client.get(INBOX)
    threads_waiting(3, number)

    page = client.get(INBOX, {"tab": "needs_reply"})
    live = client.get(INBOX, {"tab": "needs_reply", "live": "1"})

    assert live.status_code == 200
    assert 'id="inbox-tabs"' in live.text and 'id="inbox-list"' in live.text
    assert "<html" not in live.text and 'id="inbox-q"' not in live.text  # no page around it
    assert live.text.count("data-thread=") == page.text.count("data-thread=") == 3

    def cost(n_more: int) -> int:
        threads_waiting(n_more, number)
        with CaptureQueriesContext(connection) as queries:
            client.get(INBOX, {"tab": "needs_reply", "live": "1"})
        return len(queries)

    assert cost(0) == cost(27) <= 8


def test_searching_message_text_reads_the_trigram_index_not_every_message(db):
    ThreadMessageFactory(text="Is the linen abaya in stock?")
    searched = Thread.objects.filter(inbox.search_filter("linen aba"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a table too big to scan
        plan = searched.explain()
    assert "conversations_message_text_trgm" in plan, plan
    assert searched.count() == 1
