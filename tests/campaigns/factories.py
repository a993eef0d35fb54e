"""Campaigns as campaign_create leaves them (a draft sending an approved marketing template), and recipients."""

from datetime import timedelta

import factory
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient, RecipientStatus
from templates_lib.models import TemplateCategory
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

# The factory template's two parameters (tests.templates_lib.factories.PARAMETERS), filled from the contact.
PARAMS = {
    "customer": {"source": "field", "key": "name", "default": "there"},
    "order_id": {"source": "attribute", "key": "code", "default": "SALE10"},
}


class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft marketing campaign to every contact; pass segment=... to narrow it."""

    class Meta:
        model = Campaign

    phone_number = factory.SubFactory(PhoneNumberFactory)
    business_account = factory.SelfAttribute("phone_number.business_account")
    name = factory.Sequence(lambda n: f"Winter sale {n}")
    template = factory.SubFactory(
        TemplateFactory,
        business_account=factory.SelfAttribute("..business_account"),
        category=TemplateCategory.MARKETING,
        name=factory.Sequence(lambda n: f"winter_sale_{n}"),
    )
    params = factory.LazyFunction(lambda: dict(PARAMS))
    segment = factory.LazyFunction(dict)


class CampaignRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRecipient

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory)
    status = RecipientStatus.PENDING


def consent(contact, *, category=ConsentCategory.MARKETING, action=ConsentAction.OPT_IN, days_ago=1) -> None:
    contacts.consent_record(
        contact=contact,
        category=category,
        action=action,
        source=ConsentSource.API,
        recorded_at=timezone.now() - timedelta(days=days_ago),
    )


def opted_in_contact(**kwargs):
    """A contact who opted in to marketing yesterday."""
    contact = ContactFactory(**kwargs)
    consent(contact)
    return contact


def sent_recipient(campaign, *, contact=None, message_status="accepted", **kwargs):
    """A recipient whose marketing message the sender has queued and Meta accepted (as campaigns.sending
    leaves it: the message's subject is the recipient), waiting for Meta's statuses."""
    from outbound.models import MessageCategory, OutboundMessage

    contact = contact or ContactFactory()
    recipient = CampaignRecipientFactory(campaign=campaign, contact=contact, **kwargs)
    recipient.message = OutboundMessage.objects.create(
        phone_number=campaign.phone_number,
        contact=contact,
        recipient=contact.wa_id or contact.user_id,
        category=MessageCategory.MARKETING,
        purpose="campaign",
        content={"type": "template"},
        template_name=campaign.template.name,
        subject_type="campaign",
        subject_id=str(recipient.pk),
        status=message_status,
        wamid=f"wamid.campaign.{recipient.pk}",
        next_attempt_at=timezone.now(),
    )
    recipient.save(update_fields=["message"])
    return recipient
