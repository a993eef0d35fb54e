import factory

from waco.contacts.models import Contact


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    wa_id = factory.Sequence(lambda n: f"9715{n:08d}")
    profile_name = factory.Faker("first_name")
