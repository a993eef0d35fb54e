"""The policy's branches that need no HTTP: consent and the marketing share of the limit."""

import pytest
from django.utils import timezone

from outbound import policy, reach
from outbound.models import MessageCategory
from templates_lib.models import TemplateCategory
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.consent import decide_marketing, opted_in
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.channels.models import MessagingLimitTier
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


def test_marketing_without_marketing_consent_is_refused_even_with_utility_consent():
    number, contact = PhoneNumberFactory(), opted_in(ContactFactory(), ConsentCategory.UTILITY)
    with pytest.raises(policy.PolicyRefusal, match="no marketing consent"):
        decide_marketing(number, contact)


def test_an_opt_out_after_an_opt_in_refuses_marketing():
    number, contact = PhoneNumberFactory(), opted_in(ContactFactory())
    contacts.consent_record(
        contact=contact,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.WHATSAPP,
        recorded_at=timezone.now(),
    )
    with pytest.raises(policy.PolicyRefusal, match="no marketing consent"):
        decide_marketing(number, contact)


def test_marketing_free_form_in_an_open_window_still_needs_marketing_consent():
    number, contact = PhoneNumberFactory(), ContactFactory()
    contacts.window_touch(contact=contact, phone_number=number, inbound_at=timezone.now())
    offer = {"type": "text", "text": {"body": "20% off abayas this week"}}

    def decide():
        return policy.decide(
            phone_number=number,
            contact=contact,
            category=MessageCategory.MARKETING,
            purpose="cart_recovery",
            content=offer,
            template_params={},
            now=timezone.now(),
        )

    with pytest.raises(policy.PolicyRefusal, match="no marketing consent"):
        decide()
    opted_in(contact)
    assert decide().content == offer


def cart_recovery_template(number):
    template = TemplateFactory(business_account=number.business_account, category=TemplateCategory.MARKETING)
    PurposeTemplateFactory(purpose=PurposeFactory(key="cart_recovery"), template=template, position=0)
    return template


def reached(number, contact_ids):
    """These users were sent a template today (outbound.reach counts them, not the outbox)."""
    for contact_id in contact_ids:
        reach.reach_record(business_account=number.business_account, contact_id=contact_id, now=timezone.now())


def test_marketing_stays_under_its_share_of_the_messaging_limit(settings):
    settings.WACO_MARKETING_LIMIT_SHARE = 0.5
    number = PhoneNumberFactory(business_account__messaging_limit_tier=MessagingLimitTier.TIER_250)
    cart_recovery_template(number)
    reached(number, [ContactFactory().pk for _ in range(125)])  # half of 250 unique users already reached today
    newcomer = opted_in(ContactFactory())
    with pytest.raises(policy.PolicyRefusal, match="exceed 50% of the messaging limit"):
        decide_marketing(number, newcomer)


def test_a_customer_already_reached_today_does_not_count_twice(settings):
    settings.WACO_MARKETING_LIMIT_SHARE = 0.5
    number = PhoneNumberFactory(business_account__messaging_limit_tier=MessagingLimitTier.TIER_250)
    template = cart_recovery_template(number)
    known = opted_in(ContactFactory())
    reached(number, [ContactFactory().pk for _ in range(124)] + [known.pk])
    # At the share, but this customer is one of the 125 already counted: the offer goes.
    assert decide_marketing(number, known).template_name == template.name
