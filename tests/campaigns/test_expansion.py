"""campaign_expand: a row per contact of the audience, skips with their reasons, set-based, idempotent, resumable."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import expansion
from campaigns.expansion import campaign_expand
from campaigns.models import Audience, RecipientStatus, SkipReason
from outbound.models import MessageCategory, MessageStatus
from templates_lib.models import TemplateCategory
from tests.campaigns.factories import CampaignFactory, consent, opted_in_contact
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import OrderFactory, OrderLineFactory, paid_order
from tests.contacts.factories import ContactFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.templates_lib.factories import TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource, Contact

pytestmark = pytest.mark.django_db


def outcome(campaign) -> dict:
    """contact id -> (status, skip reason)."""
    return {r.contact_id: (r.status, r.skip_reason) for r in campaign.recipients.all()}


def test_each_contact_with_consent_becomes_a_pending_recipient_with_its_params():
    named = opted_in_contact(name="Amal", attributes={"code": "AMAL20"})
    unnamed = opted_in_contact(profile_name="", attributes={})
    campaign = CampaignFactory()
    result = campaign_expand(campaign=campaign)
    assert result.done and campaign.expansion_done
    rows = {r.contact_id: r for r in campaign.recipients.all()}
    assert rows[named.pk].status == RecipientStatus.PENDING
    assert rows[named.pk].params == {"customer": "Amal", "order_id": "AMAL20"}
    assert rows[unnamed.pk].params == {"customer": "there", "order_id": "SALE10"}  # the defaults


def test_no_consent_is_a_skip():
    contact = ContactFactory()
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    assert outcome(campaign)[contact.pk] == (RecipientStatus.SKIPPED, SkipReason.NO_CONSENT)
    assert campaign.recipients.get().params == {}


def test_an_opt_out_after_the_opt_in_is_a_skip():
    contact = opted_in_contact()
    consent(contact, action=ConsentAction.OPT_OUT, days_ago=0)
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    assert outcome(campaign)[contact.pk] == (RecipientStatus.SKIPPED, SkipReason.OPTED_OUT)


def test_utility_consent_does_not_let_marketing_through():
    contact = ContactFactory()
    consent(contact, category=ConsentCategory.UTILITY)
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    assert outcome(campaign)[contact.pk] == (RecipientStatus.SKIPPED, SkipReason.NO_CONSENT)


def test_us_numbers_are_skipped_for_marketing_but_not_canadian_ones():
    us = opted_in_contact(wa_id="12025550123")
    us_bsuid = opted_in_contact(wa_id=None, user_id="US.13491208655302741918")
    canada = opted_in_contact(wa_id="14165550123")
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    rows = outcome(campaign)
    assert rows[us.pk] == rows[us_bsuid.pk] == (RecipientStatus.SKIPPED, SkipReason.US_MARKETING)
    assert rows[canada.pk] == (RecipientStatus.PENDING, "")


def test_a_transactional_utility_campaign_reaches_us_numbers_with_utility_consent():
    us = ContactFactory(wa_id="12025550123")
    consent(us, category=ConsentCategory.UTILITY)
    marketing_only = opted_in_contact()
    campaign = CampaignFactory(transactional=True)
    campaign.template = TemplateFactory(business_account=campaign.business_account, category=TemplateCategory.UTILITY)
    campaign.save()
    campaign_expand(campaign=campaign)
    rows = outcome(campaign)
    assert rows[us.pk] == (RecipientStatus.PENDING, "")
    assert rows[marketing_only.pk] == (RecipientStatus.SKIPPED, SkipReason.NO_CONSENT)


def test_a_marketing_message_within_the_cap_is_a_skip_across_campaigns():
    capped, failed_only, long_ago = opted_in_contact(), opted_in_contact(), opted_in_contact()
    marketing = {"category": MessageCategory.MARKETING, "status": MessageStatus.DELIVERED}
    OutboundMessageFactory(contact=capped, **marketing)
    OutboundMessageFactory(contact=failed_only, category=MessageCategory.MARKETING, status=MessageStatus.FAILED)
    old = OutboundMessageFactory(contact=long_ago, **marketing)
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    OutboundMessageFactory(contact=long_ago, category=MessageCategory.UTILITY)  # not marketing: no cap
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    rows = outcome(campaign)
    assert rows[capped.pk] == (RecipientStatus.SKIPPED, SkipReason.FREQUENCY_CAP)
    assert rows[failed_only.pk] == rows[long_ago.pk] == (RecipientStatus.PENDING, "")


def test_a_131049_in_the_last_24_hours_is_a_skip():
    refused, refused_long_ago = opted_in_contact(), opted_in_contact()
    now = timezone.now()
    failed = {"category": MessageCategory.MARKETING, "status": MessageStatus.FAILED, "error_code": 131049}
    OutboundMessageFactory(contact=refused, failed_at=now - timedelta(hours=3), **failed)
    OutboundMessageFactory(contact=refused_long_ago, failed_at=now - timedelta(hours=30), **failed)
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign, now=now)
    rows = outcome(campaign)
    assert rows[refused.pk] == (RecipientStatus.SKIPPED, SkipReason.RECENT_131049)
    assert rows[refused_long_ago.pk] == (RecipientStatus.PENDING, "")


def test_a_contact_with_no_address_is_a_skip():
    nowhere = opted_in_contact(wa_id="", user_id=None)  # the check constraint allows an empty wa_id
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign)
    assert outcome(campaign)[nowhere.pk] == (RecipientStatus.SKIPPED, SkipReason.NO_ADDRESS)


def test_running_it_twice_adds_nobody():
    for _ in range(5):
        opted_in_contact()
    ContactFactory()
    campaign = CampaignFactory()
    campaign_expand(campaign=campaign, batch_size=2)
    first = outcome(campaign)
    campaign.expansion_done = False  # as if it had not noticed it was done
    campaign.expanded_through = 0
    campaign.save()
    campaign_expand(campaign=campaign, batch_size=4)
    assert outcome(campaign) == first
    assert campaign.recipients.count() == 6


def test_a_killed_expansion_resumes_after_its_last_committed_batch(monkeypatch):
    people = [opted_in_contact() for _ in range(7)]
    campaign = CampaignFactory()
    real_batch_rows = expansion._batch_rows
    calls = []

    def killed_after_the_first_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt("the process was killed")
        return real_batch_rows(*args, **kwargs)

    monkeypatch.setattr(expansion, "_batch_rows", killed_after_the_first_batch)
    with pytest.raises(KeyboardInterrupt):
        campaign_expand(campaign=campaign, batch_size=3)
    campaign.refresh_from_db()
    assert campaign.expanded_through == people[2].pk and not campaign.expansion_done
    assert campaign.recipients.count() == 3

    monkeypatch.setattr(expansion, "_batch_rows", real_batch_rows)
    assert campaign_expand(campaign=campaign, batch_size=3).batches == 2
    assert sorted(campaign.recipients.values_list("contact_id", flat=True)) == [c.pk for c in people]


def contacts_bulk(count: int) -> None:
    start = Contact.objects.count()
    made = Contact.objects.bulk_create(Contact(wa_id=f"9715{start + n:08d}") for n in range(count))
    ConsentEntry.objects.bulk_create(
        ConsentEntry(
            contact=contact,
            category=ConsentCategory.MARKETING,
            action=ConsentAction.OPT_IN,
            source=ConsentSource.API,
            recorded_at=timezone.now(),
        )
        for contact in made
    )


def queries_of_one_batch(count: int) -> int:
    Contact.objects.all().delete()
    contacts_bulk(count)
    campaign = CampaignFactory()
    with CaptureQueriesContext(connection) as captured:
        campaign_expand(campaign=campaign, batch_size=count)
    assert campaign.recipients.filter(status=RecipientStatus.PENDING).count() == count
    return len(captured)


def test_a_batch_takes_the_same_queries_for_100_contacts_as_for_1000():
    assert queries_of_one_batch(100) == queries_of_one_batch(1000)


def test_segment_filters_select_the_contacts():
    vip = opted_in_contact(tags=["vip", "newsletter"], attributes={"tier": "gold"})
    opted_in_contact(tags=["newsletter"], attributes={"tier": "gold"})
    opted_in_contact(tags=["vip"], attributes={"tier": "silver"})
    campaign = CampaignFactory(
        segment={"tags_all": ["vip"], "tags_any": ["newsletter", "x"], "attributes": {"tier": "gold"}}
    )
    campaign_expand(campaign=campaign)
    assert list(outcome(campaign)) == [vip.pk]


def test_the_countries_filter_reads_the_country_from_the_number():
    emirati = opted_in_contact(wa_id="971501234567")
    opted_in_contact(wa_id="966501234567")
    canadian = opted_in_contact(wa_id="14165550123")
    campaign = CampaignFactory(segment={"countries": ["AE", "CA"]})
    campaign_expand(campaign=campaign)
    assert sorted(outcome(campaign)) == sorted([emirati.pk, canadian.pk])


def test_order_filters_read_paid_orders_of_the_account():
    campaign = CampaignFactory()
    account = campaign.business_account
    shoes, scarves = VariantFactory(product__category__business_account=account), VariantFactory()
    buyer, old_buyer, unpaid, never = (opted_in_contact() for _ in range(4))
    order = paid_order(phone_number=campaign.phone_number, contact=buyer)
    OrderLineFactory(order=order, variant=shoes)
    old = paid_order(phone_number=campaign.phone_number, contact=old_buyer)
    OrderLineFactory(order=old, variant=scarves)
    type(old).objects.filter(pk=old.pk).update(paid_at=timezone.now() - timedelta(days=40))
    OrderFactory(phone_number=campaign.phone_number, contact=unpaid)  # waiting for payment: not an order yet

    def expanded(segment) -> set:
        campaign.recipients.all().delete()
        campaign.segment, campaign.expanded_through, campaign.expansion_done = segment, 0, False
        campaign.save()
        campaign_expand(campaign=campaign)
        return set(outcome(campaign))

    assert expanded({"ordered_within_days": 30}) == {buyer.pk}
    assert expanded({"not_ordered_within_days": 30}) == {old_buyer.pk, unpaid.pk, never.pk}
    assert expanded({"ordered_product_ids": [shoes.product_id, scarves.product_id]}) == {buyer.pk, old_buyer.pk}
    assert expanded({"ordered_product_ids": [scarves.product_id], "ordered_within_days": 30}) == set()
    assert expanded({"ordered_category_ids": [shoes.product.category_id]}) == {buyer.pk}


def test_quiet_since_leaves_out_who_wrote_recently():
    campaign = CampaignFactory()
    talker, quiet = opted_in_contact(), opted_in_contact()
    contacts.window_touch(contact=talker, phone_number=campaign.phone_number, inbound_at=timezone.now())
    contacts.window_touch(
        contact=quiet, phone_number=campaign.phone_number, inbound_at=timezone.now() - timedelta(days=20)
    )
    campaign.segment = {"quiet_since_days": 14}
    campaign.save()
    campaign_expand(campaign=campaign)
    assert quiet.pk in outcome(campaign) and talker.pk not in outcome(campaign)


def test_a_csv_audience_is_refused_until_csv_uploads_exist():
    campaign = CampaignFactory(audience=Audience.CSV)
    with pytest.raises(ValidationError, match="CSV"):
        campaign_expand(campaign=campaign)
    assert not campaign.recipients.exists()
