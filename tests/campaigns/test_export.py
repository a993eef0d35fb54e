"""A campaign's recipients as CSV: one line each, streamed, and from the admin's action."""

import csv
from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from campaigns.export import HEADER, recipients_csv
from campaigns.models import CampaignStatus, RecipientStatus, SkipReason
from tests.campaigns.factories import CampaignFactory, CampaignRecipientFactory, sent_recipient
from tests.checkout.factories import paid_order
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
R = RecipientStatus


def rows(campaign):
    return list(csv.DictReader(recipients_csv(campaign)))


def test_each_recipient_is_one_line_with_its_outcome():
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    sent = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    skipped = CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.OPTED_OUT)
    delivered = sent_recipient(
        campaign,
        contact=ContactFactory(wa_id=None, user_id="US.13491208655302741918"),
        message_status="read",
        status=R.READ,
        sent_at=sent,
        cost=Decimal("0.0499"),
    )
    delivered.message.delivered_at = sent + timedelta(minutes=1)
    delivered.message.read_at = sent + timedelta(minutes=5)
    delivered.message.save(update_fields=["delivered_at", "read_at"])
    failed = CampaignRecipientFactory(
        campaign=campaign, status=R.FAILED, error_code=131026, error_title="131026 Message undeliverable"
    )
    buyer = ContactFactory()
    order = paid_order(contact=buyer, phone_number=campaign.phone_number)
    ordered = CampaignRecipientFactory(
        campaign=campaign,
        contact=buyer,
        status=R.ORDERED,
        sent_at=sent,
        order=order,
        revenue_minor=order.total_minor,
        ordered_at=sent + timedelta(days=1),
    )

    lines = list(recipients_csv(campaign))
    assert lines[0].strip() == ",".join(HEADER)
    by_status = {row["status"]: row for row in rows(campaign)}
    assert len(by_status) == 4
    assert by_status["skipped"]["skip_reason"] == "opted_out"
    assert by_status["skipped"]["wa_id"] == skipped.contact.wa_id
    read = by_status["read"]
    assert (read["wa_id"], read["user_id"]) == ("", "US.13491208655302741918")
    assert read["sent_at"] == sent.isoformat()
    assert read["delivered_at"] == (sent + timedelta(minutes=1)).isoformat()
    assert read["read_at"] == (sent + timedelta(minutes=5)).isoformat()
    assert read["cost"] == "0.049900"
    assert (by_status["failed"]["error_code"], by_status["failed"]["error_title"]) == (
        "131026",
        "131026 Message undeliverable",
    )
    assert by_status["failed"]["wa_id"] == failed.contact.wa_id
    bought = by_status["ordered"]
    assert (bought["order"], bought["revenue_minor"], bought["currency"]) == (
        order.reference,
        str(order.total_minor),
        order.currency,
    )
    assert bought["ordered_at"] == ordered.ordered_at.isoformat()


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted():
    campaign = CampaignFactory()
    CampaignRecipientFactory(campaign=campaign, status=R.FAILED, error_title='=HYPERLINK("x")')
    (row,) = rows(campaign)
    assert row["error_title"] == '\'=HYPERLINK("x")'


def test_the_admin_action_streams_one_campaigns_csv(admin_client):
    campaign = CampaignFactory()
    CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    response = admin_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "export_recipients_csv", "_selected_action": [campaign.pk]},
    )
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert f"campaign-{campaign.pk}-recipients.csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == ",".join(HEADER)
    assert "no_consent" in body
