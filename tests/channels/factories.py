import factory

from waco.channels.models import BusinessAccount, PhoneNumber


class BusinessAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessAccount

    name = factory.Sequence(lambda n: f"Shop {n}")
    waba_id = factory.Sequence(lambda n: f"{200000000000000 + n}")
    access_token = factory.Sequence(lambda n: f"EAAG-system-user-token-{n:06d}-abcdefghijklmnop")


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    business_account = factory.SubFactory(BusinessAccountFactory)
    graph_id = factory.Sequence(lambda n: f"{100000000000100 + n}")
    display_phone_number = factory.Sequence(lambda n: f"+971 50 {n:07d}")
    verified_name = "Demo Shop"
