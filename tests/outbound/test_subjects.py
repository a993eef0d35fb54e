"""A message carries the subject its caller names; callers find their messages by it, and staff
filter and search the outbox by it."""

import pytest
from django.utils import timezone

from outbound import services
from outbound.models import MessageCategory
from outbound.selectors import messages_about
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.outbound.factories import OutboundMessageFactory
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db
TEXT = {"type": "text", "text": {"body": "Your order is packed"}}


@pytest.fixture(autouse=True)
def no_ring(monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)


def enqueue(**subject):
    number, contact = PhoneNumberFactory(), ContactFactory()
    contacts.window_touch(contact=contact, phone_number=number, inbound_at=timezone.now())
    return services.message_enqueue(
        phone_number=number, contact=contact, category=MessageCategory.SERVICE, purpose="reply", content=TEXT, **subject
    )


def test_the_subject_named_at_enqueue_is_stored_and_found_exactly():
    mine = enqueue(subject_type="order", subject_id="W0000012")
    enqueue(subject_type="order", subject_id="W00000123")  # a longer reference starting with mine
    enqueue(subject_type="thread", subject_id="W0000012")
    untold = enqueue()
    assert (mine.subject_type, mine.subject_id) == ("order", "W0000012")
    assert (untold.subject_type, untold.subject_id) == ("", "")
    assert list(messages_about(subject_type="order", subject_id="W0000012")) == [mine]


def test_an_id_given_as_a_number_is_found_as_a_number():
    message = enqueue(subject_type="thread", subject_id=42)
    assert message.subject_id == "42"
    assert list(messages_about(subject_type="thread", subject_id=42)) == [message]


def test_the_outbox_list_shows_filters_by_subject_type_and_searches_subject_ids_exactly(admin_client):
    OutboundMessageFactory(subject_type="order", subject_id="W0000012")
    OutboundMessageFactory(subject_type="order", subject_id="W00000123")
    OutboundMessageFactory(subject_type="thread", subject_id="7")
    listing = admin_client.get("/admin/outbound/outboundmessage/").content.decode()
    assert "order W0000012" in listing and "thread 7" in listing
    orders = admin_client.get("/admin/outbound/outboundmessage/?subject_type__exact=order").content.decode()
    assert "order W0000012" in orders and "order W00000123" in orders and "thread 7" not in orders
    found = admin_client.get("/admin/outbound/outboundmessage/?q=W0000012").content.decode()
    assert "order W0000012<" in found and "W00000123" not in found
