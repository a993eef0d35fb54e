"""A campaign's totals: counted in one GROUP BY by beat, read by a page without touching its recipients."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, RecipientStatus, SkipReason
from campaigns.outcomes import (
    campaign_totals,
    campaign_totals_refresh,
    campaigns_to_count,
    count_outcomes,
    recipient_ordered,
)
from outbound.models import PriceRate
from tests.campaigns.factories import CampaignFactory, CampaignRecipientFactory, sent_recipient
from tests.checkout.factories import paid_order
from waco import periodic

pytestmark = pytest.mark.django_db
R = RecipientStatus
SEED = importlib.import_module("outbound.migrations.0008_price_rates")


@pytest.fixture(autouse=True)
def seeded_rates(db):
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)


def a_campaign_with_outcomes():
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.FREQUENCY_CAP)
    CampaignRecipientFactory(campaign=campaign, status=R.PENDING)
    CampaignRecipientFactory(campaign=campaign, status=R.DELIVERED, cost=Decimal("0.0499"))
    CampaignRecipientFactory(campaign=campaign, status=R.ORDERED, cost=Decimal("0.0499"), revenue_minor=640_00)
    CampaignRecipientFactory(campaign=campaign, status=R.FAILED, error_code=131026)
    return campaign


def test_a_refresh_counts_each_status_and_skip_reason_with_cost_and_revenue():
    campaign = a_campaign_with_outcomes()
    totals = campaign_totals_refresh(campaign)
    assert totals.counts == {
        "pending": 1,
        "skipped": 3,
        "sent": 0,
        "delivered": 1,
        "read": 0,
        "replied": 0,
        "ordered": 1,
        "failed": 1,
    }
    assert totals.skipped == {"no_consent": 2, "frequency_cap": 1}
    assert totals.cost == Decimal("0.0998")
    assert totals.revenue_minor == 640_00
    assert totals.counted_at is not None


def test_reading_the_totals_does_not_touch_the_recipients():
    campaign = a_campaign_with_outcomes()
    campaign_totals_refresh(campaign)
    CampaignRecipientFactory(campaign=campaign, status=R.READ)  # beat has not counted it yet
    with CaptureQueriesContext(connection) as queries:
        totals = campaign_totals(campaign)
    assert len(queries) == 1
    assert "campaigns_campaignrecipient" not in queries[0]["sql"]
    assert totals.counts["read"] == 0
    assert campaign_totals_refresh(campaign).counts["read"] == 1


def test_a_campaign_never_counted_is_counted_on_first_read():
    campaign = a_campaign_with_outcomes()
    assert campaign_totals(campaign).counts["skipped"] == 3


def test_a_refresh_costs_the_same_queries_whatever_the_audience():
    small, large = CampaignFactory(status=CampaignStatus.RUNNING), CampaignFactory(status=CampaignStatus.RUNNING)
    for _ in range(2):
        CampaignRecipientFactory(campaign=small, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    for _ in range(40):
        CampaignRecipientFactory(campaign=large, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    counts = []
    for campaign in (small, large):
        campaign_totals_refresh(campaign)  # the first creates the row
        with CaptureQueriesContext(connection) as queries:
            campaign_totals_refresh(campaign)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_beat_counts_sending_recently_ended_and_touched_campaigns_only():
    running = CampaignFactory(status=CampaignStatus.RUNNING)
    paused = CampaignFactory(status=CampaignStatus.PAUSED)
    draft = CampaignFactory(status=CampaignStatus.DRAFT)
    just_ended = CampaignFactory(status=CampaignStatus.COMPLETED)
    long_ended = CampaignFactory(status=CampaignStatus.COMPLETED)
    ordered_late = CampaignFactory(status=CampaignStatus.COMPLETED)
    old = timezone.now() - timedelta(days=5)
    Campaign.objects.filter(pk__in=[long_ended.pk, ordered_late.pk]).update(updated_at=old)
    recipient = sent_recipient(ordered_late, message_status="delivered", sent_at=timezone.now() - timedelta(days=1))
    campaign_totals_refresh(ordered_late)
    order = paid_order(contact=recipient.contact, phone_number=ordered_late.phone_number)
    assert recipient_ordered(order=order) is not None

    assert set(campaigns_to_count()) == {running, paused, just_ended, ordered_late}
    assert count_outcomes() == 4
    totals = campaign_totals(ordered_late)
    assert (totals.counts["ordered"], totals.revenue_minor) == (1, order.total_minor)
    assert set(campaigns_to_count()) == {running, paused, just_ended}
    assert draft.pk not in {c.pk for c in campaigns_to_count()}


def test_the_count_is_a_registered_beat_job_often_enough_for_five_second_old_totals():
    (job,) = [job for job in periodic.registered_jobs() if job.task == "campaigns.count_outcomes"]
    assert job.every_seconds < 5
