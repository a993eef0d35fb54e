"""Contacts keyed on business-scoped user ids (BSUIDs), as in Meta's v25 webhook examples:
a username-only customer, later linked to their phone; parent ids stored, never merging."""

import json

import pytest

from outbound.models import MessageStatus
from tests.channels.factories import PhoneNumberFactory
from tests.ingest.factories import DeliveryFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.payloads import WEBHOOKS
from waco.contacts import services
from waco.contacts.models import Contact, ServiceWindow
from waco.ingest import services as ingest

pytestmark = pytest.mark.django_db

BSUID = "US.13491208655302741918"
PARENT = "US.ENT.506847293015824"


def deliver_fixture(name: str, number, **replace) -> None:
    """A reference webhook, addressed to our number (and with `replace`d strings), processed."""
    body = (WEBHOOKS / name).read_text().replace("123456123", number.graph_id)
    for old, new in replace.items():
        body = body.replace(old, new)
    delivery = DeliveryFactory(body=body)
    assert ingest.delivery_process(delivery_id=delivery.pk).failed == 0


def test_a_username_only_message_makes_a_contact_with_its_parent_id_and_a_window():
    number = PhoneNumberFactory()
    deliver_fixture("whatsapp-api-js__bsuid_incoming_message_with_username_has_parent_bsuid.json", number)
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id, contact.parent_user_id, contact.username) == (
        None,
        BSUID,
        PARENT,
        "@testusername",
    )
    assert ServiceWindow.objects.filter(contact=contact, phone_number=number).exists()


def test_the_same_customer_later_showing_their_phone_stays_one_contact():
    number = PhoneNumberFactory()
    deliver_fixture("whatsapp-api-js__bsuid_incoming_message_with_username_no_have_parent_bsuid.json", number)
    deliver_fixture(
        "whatsapp-api-js__bsuid_incoming_message_with_phone_and_username_no_have_parent_bsuid.json",
        number,
        ABGGFlA5Fpa="ABGGFlA5Fpb",
    )
    contact = Contact.objects.get()
    assert contact.user_id == BSUID and contact.wa_id


def test_a_shared_parent_id_never_merges_two_customers():
    first = services.contact_resolve(user_id="US.1001", parent_user_id=PARENT)
    second = services.contact_resolve(user_id="US.1002", parent_user_id=PARENT)
    again = services.contact_resolve(wa_id="971500000001", parent_user_id=PARENT)
    assert len({first.pk, second.pk, again.pk}) == 3
    assert Contact.objects.filter(parent_user_id=PARENT).count() == 3


def test_a_bsuid_of_255_characters_is_stored_whole():
    long_id = "US." + "A1" * 126  # 255 characters
    contact = services.contact_resolve(user_id=long_id, parent_user_id="US.ENT." + "9" * 248)
    contact.refresh_from_db()
    assert contact.user_id == long_id and len(contact.parent_user_id) == 255
    message = OutboundMessageFactory(contact=contact)
    message.refresh_from_db()
    assert message.recipient == long_id


def test_a_status_naming_only_the_recipients_bsuid_moves_our_message():
    name = "whatsapp-api-js__bsuid_delivered_status_with_username_has_parent_bsuid_was_sent_to_bsuid.json"
    [status] = json.loads((WEBHOOKS / name).read_text())["entry"][0]["changes"][0]["value"]["statuses"]
    assert "recipient_id" not in status and status["recipient_user_id"] == BSUID
    message = OutboundMessageFactory(
        contact=services.contact_resolve(user_id=BSUID), status=MessageStatus.ACCEPTED, wamid=status["id"]
    )
    deliver_fixture(name, message.phone_number)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert Contact.objects.count() == 1
