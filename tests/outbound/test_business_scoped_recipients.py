"""Sending to customers known by a business-scoped user id (BSUID), against the sandbox over HTTP:
the BSUID goes in `recipient`, never in `to` (where Meta accepts it and drops the message)."""

import pytest
from django.utils import timezone

from outbound import sending, services
from outbound.models import MessageCategory, MessageStatus
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.celery_config import QUEUE_SERVICE
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource
from waco.sandbox import services as sandbox

BSUID = "US.13491208655302741918"
PHONE = "971501230009"
TEXT = {"type": "text", "text": {"body": "Welcome back"}}


@pytest.fixture
def shop(transactional_db, settings, live_server):
    return sandbox_shop_wire(settings, live_server)


def customer_says(shop, *, wa_id=None, user_id=None):
    """A message through the sandbox, delivered and processed: the contact exists, the window opens."""
    sandbox.customer_message_send(
        wa_id=wa_id,
        user_id=user_id,
        name="Zara",
        message={"type": "text", "text": {"body": "hi"}},
        phone_number_id=shop.number.graph_id,
    )
    shop.deliver_webhooks()
    return contacts.contact_find(wa_id=wa_id, user_id=user_id)


def reply(shop, contact, category=MessageCategory.SERVICE, purpose="reply", content=TEXT):
    return services.message_enqueue(
        phone_number=shop.number, contact=contact, category=category, purpose=purpose, content=content
    )


def sent_to(recipient: str) -> list[dict]:
    return sandbox.outbox_list(config=sandbox.config_get(), recipient=recipient)


def test_a_reply_to_a_username_only_customer_goes_in_recipient_and_is_delivered(shop):
    contact = customer_says(shop, user_id=BSUID)
    assert (contact.wa_id, contact.user_id) == (None, BSUID)
    message = reply(shop, contact)

    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 1
    [sent] = sent_to(BSUID)
    assert "to" not in sent and (sent["recipient"], sent["recipient_type"]) == (BSUID, "individual")
    shop.deliver_webhooks()
    message.refresh_from_db()
    assert message.status == MessageStatus.READ and message.wamid == sent["wamid"]


def test_a_customer_whose_phone_is_known_is_sent_to_in_to(shop):
    contact = customer_says(shop, wa_id=PHONE, user_id=BSUID)
    assert (contact.wa_id, contact.user_id) == (PHONE, BSUID)
    message = reply(shop, contact)

    sending.outbox_drain(queue=QUEUE_SERVICE)
    [sent] = shop.sent_bodies(to=PHONE)
    assert sent["to"] == PHONE and "recipient" not in sent
    shop.deliver_webhooks()
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_an_authentication_template_is_refused_for_a_username_only_customer(shop):
    username_only = customer_says(shop, user_id=BSUID)
    with_phone = customer_says(shop, wa_id=PHONE)
    for contact in (username_only, with_phone):
        contacts.consent_record(
            contact=contact,
            category=ConsentCategory.UTILITY,
            action=ConsentAction.OPT_IN,
            source=ConsentSource.CHECKOUT,
            recorded_at=timezone.now(),
        )

    refused = reply(shop, username_only, category=MessageCategory.AUTHENTICATION, purpose="login_code", content=None)
    assert (refused.status, refused.error_class) == (MessageStatus.FAILED, "policy")
    assert refused.error_detail.startswith("authentication templates need the customer's phone number")
    # With a phone the same message gets past that rule (this shop has no template for it).
    other = reply(shop, with_phone, category=MessageCategory.AUTHENTICATION, purpose="login_code", content=None)
    assert other.error_detail == "no usable template for purpose 'login_code'"
    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 0
    assert sent_to(BSUID) == []
