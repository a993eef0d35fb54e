import factory
from django.utils import timezone

from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundMessage

    phone_number = factory.SubFactory(PhoneNumberFactory)
    contact = factory.SubFactory(ContactFactory)
    recipient = factory.LazyAttribute(lambda m: m.contact.wa_id or m.contact.user_id)
    category = MessageCategory.SERVICE
    purpose = "reply"
    content = {"type": "text", "text": {"body": "hello"}}
    status = MessageStatus.QUEUED
    next_attempt_at = factory.LazyFunction(timezone.now)
