"""campaign_send_due: due recipients to the outbox, in their waking hours, within the campaign's share of the
number's throughput, once each; paused campaigns send nothing; scheduled ones start; done ones complete."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns import sending, tasks
from campaigns.expansion import campaign_expand
from campaigns.models import CampaignCause, CampaignStatus, RecipientStatus, SkipReason
from campaigns.sending import campaign_run, campaign_send_due, campaigns_start_due
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from templates_lib.models import TemplateStatus
from tests.campaigns.factories import CampaignFactory, consent, opted_in_contact
from tests.contacts.factories import ContactFactory
from waco import periodic
from waco.contacts.models import ConsentAction

pytestmark = pytest.mark.django_db
S = CampaignStatus
NO_QUIET_HOURS = {"quiet_start": time(0), "quiet_end": time(0)}


def running(*, contacts: int = 0, throughput: int = 1000, **kwargs):
    """A running campaign, started an hour ago, expanded over `contacts` new opted-in contacts."""
    for _ in range(contacts):
        opted_in_contact()
    kwargs = {
        **NO_QUIET_HOURS,
        "status": S.RUNNING,
        "starts_at": timezone.now() - timedelta(hours=1),
        "phone_number__throughput_mps": throughput,
        **kwargs,
    }
    campaign = CampaignFactory(**kwargs)
    campaign_expand(campaign=campaign)
    return campaign


def campaign_messages(campaign):
    return OutboundMessage.objects.filter(subject_type="campaign", dedupe_key__startswith=f"campaign-{campaign.pk}-")


def test_a_due_recipient_gets_the_campaign_template_and_its_row_keeps_the_message():
    contact = opted_in_contact(name="Amal", attributes={"code": "AMAL20"})
    campaign = running()
    now = timezone.now()
    result = campaign_send_due(campaign=campaign, now=now)
    assert result.enqueued == 1
    recipient = campaign.recipients.get(contact=contact)
    message = recipient.message
    assert recipient.status == RecipientStatus.PENDING  # until the outcome says more
    assert recipient.sent_at is None  # Meta's time, copied from the message when it says sent
    assert message.status == MessageStatus.QUEUED
    assert message.category == MessageCategory.MARKETING
    assert message.template_name == campaign.template.name
    assert message.template_params == {"customer": "Amal", "order_id": "AMAL20"}
    assert message.dedupe_key == f"campaign-{campaign.pk}-{contact.pk}"
    assert (message.subject_type, message.subject_id) == ("campaign", str(recipient.pk))


@pytest.mark.parametrize(
    ("instant", "awake"),
    [
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "dubai"),  # Dubai 16:00; New York 07:00, quiet
        (datetime(2026, 1, 15, 19, 0, tzinfo=UTC), "new_york"),  # Dubai 23:00, quiet; New York 14:00
        (datetime(2026, 1, 15, 14, 30, tzinfo=UTC), "both"),  # Dubai 18:30; New York 09:30
    ],
)
def test_quiet_hours_are_kept_in_each_recipients_own_zone(instant, awake):
    with time_machine.travel(instant, tick=False):
        dubai = opted_in_contact(wa_id="971501234567")
        new_york = opted_in_contact(wa_id="971501234568", time_zone="America/New_York")  # the merchant set it
        campaign = running(quiet_start=time(21), quiet_end=time(9))
        result = campaign_send_due(campaign=campaign, now=timezone.now())
    sent = set(campaign.recipients.filter(message__isnull=False).values_list("contact_id", flat=True))
    expected = {"dubai": {dubai.pk}, "new_york": {new_york.pk}, "both": {dubai.pk, new_york.pk}}[awake]
    assert sent == expected
    assert result.quiet == 2 - len(expected)


def test_a_recipient_in_quiet_hours_goes_on_a_later_run_once_its_morning_comes():
    start = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # New York 07:00
    with time_machine.travel(start, tick=False):
        contact = opted_in_contact(time_zone="America/New_York")
        campaign = running(quiet_start=time(21), quiet_end=time(9))
        assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 0
    with time_machine.travel(start + timedelta(hours=2), tick=False):  # 09:00 there
        assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 1
    assert campaign.recipients.get(contact=contact).message is not None


def test_a_contact_with_no_known_zone_keeps_the_shops_zone(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    with time_machine.travel(datetime(2026, 1, 15, 13, 0, tzinfo=UTC), tick=False):  # Tokyo 22:00
        opted_in_contact(wa_id="80012345678")  # +800: a number of no country
        campaign = running(quiet_start=time(21), quiet_end=time(9))
        result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert (result.enqueued, result.quiet) == (0, 1)


def test_one_run_enqueues_at_most_the_campaigns_share_of_the_numbers_throughput():
    campaign = running(contacts=12, throughput=4)  # a 50% share: 2/s, a burst of one second's worth
    first = campaign_send_due(campaign=campaign, now=timezone.now())
    assert first.enqueued == 2
    assert first.retry_after is not None and first.retry_after > 0
    # At once (well within the 0.5 s a token takes to come back): the key grants nothing, or one at most.
    second = campaign_send_due(campaign=campaign, now=timezone.now())
    assert second.enqueued <= 1
    assert campaign_messages(campaign).count() == first.enqueued + second.enqueued
    assert campaign.recipients.filter(message__isnull=True, status=RecipientStatus.PENDING).count() >= 9
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING  # not done: recipients wait for the rate


def test_the_share_is_a_setting_and_campaigns_of_one_number_share_it(settings):
    settings.WACO_CAMPAIGN_THROUGHPUT_SHARE = 0.2
    first = running(contacts=5, throughput=5)  # 1/s, a burst of 1 (the default share would burst 3)
    second = CampaignFactory(status=S.RUNNING, phone_number=first.phone_number, **NO_QUIET_HOURS)
    campaign_expand(campaign=second)
    assert campaign_send_due(campaign=first, now=timezone.now()).enqueued == 1
    assert campaign_send_due(campaign=second, now=timezone.now()).enqueued <= 1


def test_running_twice_never_enqueues_a_recipient_twice():
    campaign = running(contacts=4)
    campaign_send_due(campaign=campaign, now=timezone.now())
    first = {r.pk: r.message_id for r in campaign.recipients.all()}
    # As if the rows had lost their messages: a second hand-over finds each by its dedupe key.
    campaign.recipients.update(message=None)
    campaign.refresh_from_db()
    campaign.status = S.RUNNING
    campaign.save(update_fields=["status"])
    campaign_send_due(campaign=campaign, now=timezone.now())
    assert {r.pk: r.message_id for r in campaign.recipients.all()} == first
    assert campaign_messages(campaign).count() == 4
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 0


@pytest.mark.parametrize("status", [S.PAUSED, S.CANCELLED, S.DRAFT, S.SCHEDULED])
def test_a_campaign_that_is_not_running_sends_nothing(status):
    campaign = running(contacts=3)
    campaign.status = status
    campaign.save(update_fields=["status"])
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 0
    assert status in result.stopped
    assert not campaign_messages(campaign).exists()
    campaign.refresh_from_db()
    assert campaign.status == status


def test_a_running_campaign_waits_for_its_start_time():
    campaign = running(contacts=2, starts_at=timezone.now() + timedelta(minutes=5))
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 0
    assert campaign_send_due(campaign=campaign, now=timezone.now() + timedelta(minutes=5)).enqueued == 2


def test_a_scheduled_campaign_starts_when_its_time_comes():
    at = timezone.now() + timedelta(minutes=10)
    campaign = CampaignFactory(status=S.SCHEDULED, starts_at=at)
    later = CampaignFactory(status=S.SCHEDULED, starts_at=at + timedelta(hours=1))
    assert campaigns_start_due(now=at - timedelta(seconds=1)) == []
    assert campaigns_start_due(now=at) == [campaign.pk]
    campaign.refresh_from_db()
    later.refresh_from_db()
    assert (campaign.status, later.status) == (S.RUNNING, S.SCHEDULED)
    change = campaign.changes.get(transition="start")
    assert change.cause == CampaignCause.SCHEDULE
    assert campaigns_start_due(now=at) == []  # started once


def test_a_campaign_completes_when_every_recipient_was_handed_over():
    ContactFactory()  # no consent: skipped at expansion, which does not hold completion back
    campaign = running(contacts=3)
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 3 and result.completed
    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED
    assert campaign.changes.get(transition="complete").cause == CampaignCause.SYSTEM


def test_a_campaign_not_fully_expanded_does_not_complete():
    campaign = running(contacts=2)
    campaign.expansion_done = False
    campaign.save(update_fields=["expansion_done"])
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 2 and not result.completed
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING


def test_past_its_end_a_campaign_completes_and_recipients_not_handed_over_are_skipped_as_ended():
    campaign = running(contacts=3, throughput=2)  # a burst of 1
    campaign.ends_at = timezone.now() + timedelta(minutes=1)
    campaign.save(update_fields=["ends_at"])
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 1
    result = campaign_send_due(campaign=campaign, now=timezone.now() + timedelta(minutes=1))
    assert result.enqueued == 0 and result.completed
    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED
    assert campaign.changes.get(transition="complete").cause == CampaignCause.SCHEDULE
    assert campaign.recipients.filter(status=RecipientStatus.SKIPPED, skip_reason=SkipReason.ENDED).count() == 2
    assert campaign.recipients.get(message__isnull=False).status == RecipientStatus.PENDING  # in the outbox
    assert campaign_messages(campaign).count() == 1


def test_a_recipient_who_opted_out_since_expansion_is_skipped_without_a_message():
    stays, leaves = opted_in_contact(), opted_in_contact()
    campaign = running()
    consent(leaves, action=ConsentAction.OPT_OUT, days_ago=0)  # skipped at once: campaigns.safety.opt_out_apply
    assert campaign.recipients.get(contact=leaves).status == RecipientStatus.SKIPPED
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert (result.enqueued, result.refused) == (1, 0)
    left = campaign.recipients.get(contact=leaves)
    assert (left.status, left.skip_reason, left.message) == (RecipientStatus.SKIPPED, SkipReason.OPTED_OUT, None)
    assert campaign.recipients.get(contact=stays).message is not None


def test_a_policy_refusal_leaves_a_failed_message_and_a_failed_recipient():
    opted_in_contact()
    campaign = running()
    campaign.template.status = TemplateStatus.PAUSED  # Meta paused it after expansion
    campaign.template.save(update_fields=["status"])
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert (result.enqueued, result.refused) == (0, 1)
    recipient = campaign.recipients.get()
    assert recipient.status == RecipientStatus.FAILED
    assert "not sendable" in recipient.error_title
    assert recipient.message.status == MessageStatus.FAILED
    assert recipient.message.error_class == "policy"
    # Nobody is left to hand over: the campaign is done, its recipient failed.
    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED


def test_a_full_marketing_share_holds_recipients_back_instead_of_failing_them(settings):
    settings.WACO_MARKETING_LIMIT_SHARE = 0.004  # of the 250-user tier: one user
    campaign = running(contacts=3)
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 1
    assert "share" in result.stopped
    waiting = campaign.recipients.filter(status=RecipientStatus.PENDING, message__isnull=True)
    assert waiting.count() == 2
    assert not campaign_messages(campaign).filter(status=MessageStatus.FAILED).exists()
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING


def test_a_worker_turn_expands_sends_and_completes():
    for _ in range(3):
        opted_in_contact()
    campaign = CampaignFactory(status=S.RUNNING, **NO_QUIET_HOURS)
    assert campaign_run(campaign_id=campaign.pk, sleep=pytest.fail) == 3
    campaign.refresh_from_db()
    assert campaign.expansion_done and campaign.status == S.COMPLETED


def test_a_worker_turn_at_a_paused_campaign_does_nothing():
    campaign = running(contacts=2, status=S.PAUSED)
    assert campaign_run(campaign_id=campaign.pk, sleep=pytest.fail) == 0
    assert not campaign_messages(campaign).exists()


def test_beat_ticks_campaigns_every_few_seconds():
    job = next(job for job in periodic.registered_jobs() if job.name == "campaigns.tick")
    assert job.task == "campaigns.tick" and job.every_seconds <= 30
    assert sending.campaign_rate_key(phone_number=CampaignFactory().phone_number).startswith("waco:ratelimit:")


def test_beats_tick_starts_due_campaigns_and_rings_one_send_per_running_campaign(monkeypatch):
    published = []
    monkeypatch.setattr("waco.doorbell.send_task_or_log", lambda task, *args: published.append(task) or True)
    due = CampaignFactory(status=S.SCHEDULED, starts_at=timezone.now() - timedelta(seconds=1))
    already = CampaignFactory(status=S.RUNNING)
    CampaignFactory(status=S.PAUSED)
    tasks.tick()
    due.refresh_from_db()
    assert due.status == S.RUNNING
    assert sorted(task.args[0] for task in published) == sorted([due.pk, already.pk])
    assert {task.options["queue"] for task in published} == {"marketing"}
    tasks.tick()  # the sends are still requested: the doorbell publishes no second one
    assert len(published) == 2
