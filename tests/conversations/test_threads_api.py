"""GET /threads, /threads/{id} and its messages: read-only, for a CRM, within the key's accounts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import ThreadState
from outbound.models import MessageStatus
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.messages import message_shop
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return message_shop()


@pytest.fixture
def thread(shop):
    return ThreadFactory(contact=shop.customer, phone_number=shop.number, state=ThreadState.BUILDING_CART)


def test_threads_of_a_customer_with_their_state_and_window(shop, thread, api_client_factory):
    wrote_at = timezone.now() - timedelta(hours=1)
    contacts.window_touch(contact=shop.customer, phone_number=shop.number, inbound_at=wrote_at)
    ThreadFactory(phone_number=shop.number)  # another customer
    client = api_client_factory(scopes=["threads:read"])

    page = client.get("/api/v1/threads", {"contact": "971501230001"}).json()

    [shown] = page["results"]
    assert shown["id"] == thread.pk and shown["state"] == "building_cart"
    assert shown["contact"] == {"wa_id": "971501230001", "user_id": None, "profile_name": shop.customer.profile_name}
    assert shown["account"] == shop.account.waba_id and shown["phone_number"] == shop.number.graph_id
    assert shown["window_open_until"].startswith((wrote_at + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert client.get(f"/api/v1/threads/{thread.pk}").json() == shown


def test_a_thread_lists_its_messages_both_ways_in_order_with_our_statuses(thread, api_client_factory):
    now = timezone.now()
    ThreadMessageFactory(thread=thread, text="Do you have the abaya in M?", sent_at=now - timedelta(minutes=3))
    ours = OutboundMessageFactory(
        phone_number=thread.phone_number, contact=thread.contact, status=MessageStatus.DELIVERED
    )
    ThreadMessageFactory(
        thread=thread,
        direction="out",
        wamid=None,
        outbound=ours,
        text="Yes, 3 left",
        sent_at=now - timedelta(minutes=2),
    )
    ThreadMessageFactory(thread=thread, text="Great", sent_at=now - timedelta(minutes=1))
    client = api_client_factory(scopes=["threads:read"])

    first = client.get(f"/api/v1/threads/{thread.pk}/messages", {"limit": 2}).json()
    second = client.get(first["next"]).json()

    shown = first["results"] + second["results"]
    assert [(m["direction"], m["text"], m["status"]) for m in shown] == [
        ("in", "Do you have the abaya in M?", None),
        ("out", "Yes, 3 left", "delivered"),
        ("in", "Great", None),
    ]
    assert shown[1]["message_id"] == ours.pk and shown[1]["type"] == "text"


def test_a_message_sent_through_the_api_shows_in_its_thread(shop, api_client):
    contacts.window_touch(contact=shop.customer, phone_number=shop.number, inbound_at=timezone.now())
    sent = api_client.post("/api/v1/messages", {"to": shop.customer.wa_id, "text": "Your parcel left"}).json()
    [thread] = api_client.get("/api/v1/threads", {"contact": shop.customer.wa_id}).json()["results"]

    [shown] = api_client.get(f"/api/v1/threads/{thread['id']}/messages").json()["results"]

    assert (shown["direction"], shown["text"], shown["status"]) == ("out", "Your parcel left", "queued")
    assert shown["message_id"] == sent["id"]


def test_threads_of_another_account_are_not_found(shop, thread, api_client_factory):
    theirs = ThreadFactory()  # a number of another account
    client = api_client_factory(scopes=["threads:read"], accounts=[shop.account])

    assert client.get(f"/api/v1/threads/{theirs.pk}").status_code == 404
    assert client.get(f"/api/v1/threads/{theirs.pk}/messages").status_code == 404
    assert [t["id"] for t in client.get("/api/v1/threads").json()["results"]] == [thread.pk]


def test_reading_threads_needs_threads_read(thread, api_client_factory):
    client = api_client_factory(scopes=["messages:read", "contacts:read"])

    for path in ("/api/v1/threads", f"/api/v1/threads/{thread.pk}", f"/api/v1/threads/{thread.pk}/messages"):
        assert client.get(path).status_code == 403


def test_threads_are_read_only(thread, api_client):
    assert api_client.post("/api/v1/threads", {}).status_code == 405
    assert api_client.delete(f"/api/v1/threads/{thread.pk}").status_code == 405
