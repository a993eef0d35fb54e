"""Meta's per-user marketing cap (131049) during a campaign: the recipient is retried once, 24 h after
the failure, when that time still falls before the campaign's end and outside the recipient's quiet
hours; otherwise (and after its one retry) it is skipped with the reason `recent_131049`."""

import json
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import CampaignStatus, RecipientStatus, SkipReason
from campaigns.outcomes import count_outcomes, recipients_sync
from campaigns.sending import campaign_send_due
from outbound.models import MessageStatus, OutboundMessage
from tests.campaigns.factories import opted_in_contact, running_campaign, sent_recipient
from tests.support.payloads import webhook
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db
# Dubai is UTC+4: 10:00 UTC is 14:00 there, 18:00 UTC is 22:00 (quiet from 21:00 to 09:00).
AFTERNOON_IN_DUBAI = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
NIGHT_IN_DUBAI = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
QUIET_HOURS = {"quiet_start": time(21), "quiet_end": time(9)}
PARAMS = {"customer": "Amal", "order_id": "SALE10"}  # as expansion filled them
CAP_TITLE = "This message was not delivered to maintain healthy ecosystem engagement."


def failed_with_131049(message: OutboundMessage) -> None:
    """Meta's failed status for the message (the published fixture, with code 131049), through ingest."""
    body = webhook("pywa__message_status__failed.json")
    value = body["entry"][0]["changes"][0]["value"]
    number = message.phone_number
    body["entry"][0]["id"] = number.business_account.waba_id
    value["metadata"] = {"display_phone_number": number.display_phone_number, "phone_number_id": number.graph_id}
    value["contacts"] = [{"profile": {"name": "Amal"}, "wa_id": message.recipient}]
    status = value["statuses"][0]
    status.update(id=message.wamid, recipient_id=message.recipient, timestamp=str(int(timezone.now().timestamp())))
    status["errors"][0].update(code=131049, title=CAP_TITLE, message=CAP_TITLE)
    deliver(json.dumps(body).encode())
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 131049)


def capped_recipient(*, ends_in: timedelta | None):
    """A running campaign whose message to a customer in Dubai Meta accepted, then failed with 131049 now."""
    campaign = running_campaign(
        **QUIET_HOURS, ends_at=timezone.now() + ends_in if ends_in else None, starts_at=timezone.now()
    )
    recipient = sent_recipient(campaign, contact=opted_in_contact(wa_id="971501230042"), params=PARAMS)
    failed_with_131049(recipient.message)
    recipients_sync(campaign=campaign)
    recipient.refresh_from_db()
    return campaign, recipient


def test_a_131049_with_room_for_a_retry_a_day_later_is_retried_once_then_skipped():
    with time_machine.travel(AFTERNOON_IN_DUBAI, tick=False):
        campaign, recipient = capped_recipient(ends_in=timedelta(days=3))
        first = recipient.message_id
    assert (recipient.status, recipient.message_id) == (RecipientStatus.PENDING, None)
    assert recipient.retry_at == AFTERNOON_IN_DUBAI + timedelta(hours=24)
    assert (recipient.error_code, recipient.error_title) == (131049, f"131049 {CAP_TITLE}")

    with time_machine.travel(AFTERNOON_IN_DUBAI + timedelta(hours=23, minutes=59), tick=False):
        result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert (result.enqueued, result.completed) == (0, False)  # not yet: and it holds the campaign open
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING

    with time_machine.travel(AFTERNOON_IN_DUBAI + timedelta(hours=24), tick=False):
        assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 1
        recipient.refresh_from_db()
        retry = recipient.message
        assert retry.pk != first and retry.status == MessageStatus.QUEUED
        assert retry.dedupe_key == f"campaign-{campaign.pk}-{recipient.contact_id}-retry"
        assert retry.template_name == campaign.template.name

        # Meta caps them again: no second retry.
        OutboundMessage.objects.filter(pk=retry.pk).update(status=MessageStatus.ACCEPTED, wamid="wamid.retry.1")
        retry.refresh_from_db()
        failed_with_131049(retry)
        count_outcomes()  # beat's count syncs the recipients
    recipient.refresh_from_db()
    assert (recipient.status, recipient.skip_reason, recipient.message_id) == (
        RecipientStatus.SKIPPED,
        SkipReason.RECENT_131049,
        retry.pk,
    )
    assert OutboundMessage.objects.filter(contact=recipient.contact).count() == 2


@pytest.mark.parametrize(
    ("failed_at", "ends_in", "why"),
    [
        (AFTERNOON_IN_DUBAI, timedelta(hours=12), "the campaign ends before a day has passed"),
        (AFTERNOON_IN_DUBAI, timedelta(hours=24), "the end is the retry's time: too late"),
        (NIGHT_IN_DUBAI, None, "a day later is night in Dubai: quiet hours"),
    ],
)
def test_a_131049_with_no_room_for_a_retry_is_skipped(failed_at, ends_in, why):
    with time_machine.travel(failed_at, tick=False):
        campaign, recipient = capped_recipient(ends_in=ends_in)
    assert (recipient.status, recipient.skip_reason, recipient.retry_at) == (
        RecipientStatus.SKIPPED,
        SkipReason.RECENT_131049,
        None,
    ), why
    assert recipient.message.error_code == 131049  # the failed message stays its record
    with time_machine.travel(failed_at + timedelta(hours=24), tick=False):
        assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 0


def test_a_131049_after_the_campaign_was_cancelled_is_skipped():
    with time_machine.travel(AFTERNOON_IN_DUBAI, tick=False):
        campaign = running_campaign(**QUIET_HOURS, status=CampaignStatus.CANCELLED)
        recipient = sent_recipient(campaign, contact=opted_in_contact(wa_id="971501230043"))
        failed_with_131049(recipient.message)
        recipients_sync(campaign=campaign)
    recipient.refresh_from_db()
    assert (recipient.status, recipient.skip_reason) == (RecipientStatus.SKIPPED, SkipReason.RECENT_131049)
