import factory

from conversations.models import Thread, ThreadState
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)
    state = ThreadState.BROWSING
