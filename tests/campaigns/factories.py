"""Campaigns as campaign_create leaves them (a draft sending an approved marketing template), and recipients."""

from datetime import time, timedelta

import factory
from django.utils import timezone

from campaigns.expansion import campaign_expand
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from templates_lib import services as templates
from templates_lib.models import TemplateCategory, TemplateStatus
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import BODY, PARAMETERS, TemplateFactory
from tests.workers import wait_until
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


NO_QUIET_HOURS = {"quiet_start": time(0), "quiet_end": time(0)}


def running_campaign(*, contacts: int = 0, throughput: int = 1000, **kwargs):
    """A running campaign, started an hour ago, with no quiet hours, expanded over `contacts` new
    opted-in contacts (and any made before); `throughput` is its new number's (not one passed in)."""
    for _ in range(contacts):
        opted_in_contact()
    number = {} if "phone_number" in kwargs else {"phone_number__throughput_mps": throughput}
    kwargs = {
        **NO_QUIET_HOURS,
        "status": CampaignStatus.RUNNING,
        "starts_at": timezone.now() - timedelta(hours=1),
        **number,
        **kwargs,
    }
    campaign = CampaignFactory(**kwargs)
    campaign_expand(campaign=campaign)
    return campaign


def sandbox_campaign(shop, *, contacts: int = 0, throughput: int = 80):
    """A running campaign on the sandbox shop (tests.support.sandbox_shop) of a marketing template
    submitted to the sandbox and approved there, to `contacts` new opted-in contacts (and any before)."""
    draft = templates.template_create_draft(
        business_account=shop.account,
        name="winter_sale",
        language="en_US",
        category=TemplateCategory.MARKETING,
        components=BODY,
        parameters=PARAMETERS,
    )
    template = templates.template_submit(template=draft)
    shop.deliver_webhooks()  # the sandbox's review approves it (here, or by the shop's worker)

    def approved():
        template.refresh_from_db()
        return template.status == TemplateStatus.APPROVED

    wait_until(approved, timeout=30, message=f"the sandbox to approve {template.name}")
    shop.number.throughput_mps = throughput
    shop.number.save(update_fields=["throughput_mps"])
    return running_campaign(contacts=contacts, template=template, phone_number=shop.number)
