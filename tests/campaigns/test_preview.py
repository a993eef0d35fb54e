"""campaign_preview: what expansion would write, counted without writing, and what it would cost."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.expansion import campaign_expand, campaign_preview
from campaigns.models import RecipientStatus
from outbound.models import MessageCategory, MessageStatus
from outbound.pricing import message_cost
from tests.campaigns.factories import CampaignFactory, consent, opted_in_contact
from tests.contacts.factories import ContactFactory
from tests.outbound.factories import OutboundMessageFactory
from waco.contacts.models import ConsentAction

pytestmark = pytest.mark.django_db


def audience_of_every_kind() -> None:
    for _ in range(4):
        opted_in_contact()  # Emirati numbers
    opted_in_contact(wa_id="966501234567")
    opted_in_contact(wa_id="12025550123")  # US: skipped
    ContactFactory()  # no consent
    consent(opted_in_contact(), action=ConsentAction.OPT_OUT, days_ago=0)
    OutboundMessageFactory(
        contact=opted_in_contact(), category=MessageCategory.MARKETING, status=MessageStatus.SENT
    )  # capped
    OutboundMessageFactory(
        contact=opted_in_contact(),
        category=MessageCategory.MARKETING,
        status=MessageStatus.FAILED,
        error_code=131049,
        failed_at=timezone.now() - timedelta(hours=1),
    )


def test_the_preview_counts_what_expansion_writes():
    audience_of_every_kind()
    campaign = CampaignFactory()
    preview = campaign_preview(campaign=campaign, batch_size=3)
    assert not campaign.recipients.exists()  # a preview writes nothing

    campaign_expand(campaign=campaign, batch_size=4)
    recipients = campaign.recipients
    assert preview.would_send == recipients.filter(status=RecipientStatus.PENDING).count() == 5
    skipped = Counter(recipients.filter(status=RecipientStatus.SKIPPED).values_list("skip_reason", flat=True))
    assert preview.skipped == skipped
    assert skipped == {"us_marketing": 1, "no_consent": 1, "opted_out": 1, "frequency_cap": 1, "recent_131049": 1}


def test_the_preview_prices_each_recipient_at_their_country_s_marketing_rate():
    audience_of_every_kind()
    preview = campaign_preview(campaign=CampaignFactory())
    assert preview.by_country == {"AE": 4, "SA": 1}
    today = timezone.now().date()
    rates = {country: message_cost(country_code=country, category="marketing", on=today) for country in ("AE", "SA")}
    priced = {country: rate for country, rate in rates.items() if rate is not None}
    assert preview.estimated_cost == sum(rate * preview.by_country[country] for country, rate in priced.items())
    assert preview.unpriced == sum(preview.by_country[country] for country in rates if country not in priced)


def test_a_preview_takes_the_same_queries_however_many_contacts_fit_a_batch(django_assert_max_num_queries):
    for _ in range(30):
        opted_in_contact()
    campaign = CampaignFactory()
    with django_assert_max_num_queries(5):  # the template, one batch, the batch that finds none, two for prices
        campaign_preview(campaign=campaign)
