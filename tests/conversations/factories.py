import factory
from django.utils import timezone

from conversations.models import Thread, ThreadState
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)
    state = ThreadState.BROWSING


class ThreadMessageFactory(factory.django.DjangoModelFactory):
    """A customer's text message; pass direction/outbound/staff_user for ours."""

    class Meta:
        model = "conversations.ThreadMessage"

    thread = factory.SubFactory(ThreadFactory)
    direction = "in"
    wamid = factory.Sequence(lambda n: f"wamid.HBgMTEST{n:08d}")
    type = "text"
    text = "Hello, is the linen abaya in stock?"
    payload = factory.LazyAttribute(lambda m: {"type": "text", "text": {"body": m.text}})
    sent_at = factory.LazyFunction(timezone.now)


class InboundMediaFactory(factory.django.DjangoModelFactory):
    """A customer's image waiting for download, as the dialogue records it from the webhook."""

    class Meta:
        model = "conversations.InboundMedia"

    message = factory.SubFactory(ThreadMessageFactory, type="image", text="[image]", payload={"type": "image"})
    media_id = factory.Sequence(lambda n: f"{1_000_000_000_000_000 + n}")
    declared_mime_type = "image/png"
