"""A running campaign pauses itself, says why and alerts staff once when its channel suffers: its
number's quality drops, its template is paused, disabled or recategorised, its sends fail past the
threshold, or its recipients opt out past theirs. Only staff resume it; it never resumes itself."""

import json

import pytest
from django.utils import timezone

from campaigns import safety, tasks
from campaigns.control import campaign_press
from campaigns.models import CampaignCause, CampaignStatus, RecipientStatus
from campaigns.outcomes import campaign_totals_refresh, count_outcomes
from campaigns.sending import campaign_run, campaign_send_due
from campaigns.services import CampaignTransitionRefused, campaign_transition
from outbound.models import MessageStatus, OutboundMessage
from templates_lib import services as templates
from templates_lib.models import ChangeCause, TemplateCategory, TemplateStatus
from tests.campaigns.factories import consent, running_campaign, sandbox_campaign, sent_recipient
from tests.contacts.factories import ContactFactory
from tests.support.chat import Chat
from tests.support.drain import wait_drained
from tests.support.payloads import envelope, webhook
from tests.support.sandbox_shop import sandbox_shop_open
from tests.support.webhooks import deliver, post_webhook
from tests.templates_lib.factories import TemplateFactory
from tests.workers import wait_until
from waco.alerts.models import Alert
from waco.channels import services as channels
from waco.channels.models import QualityRating
from waco.ingest import inbox
from waco.sandbox import services as sandbox

S = CampaignStatus
WABA_ID = "102290129340398"  # the account of the template fixtures


def alerts(campaign):
    return Alert.objects.filter(kind=safety.ALERT_KIND, subject__endswith=f"(#{campaign.pk})")


def assert_paused_by_safety(campaign, *, because: str) -> None:
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED
    assert because in campaign.paused_reason
    change = campaign.changes.get(transition="pause")
    assert (change.cause, change.detail) == (CampaignCause.SAFETY, campaign.paused_reason)
    [alert] = alerts(campaign)
    assert alert.resolved_at is None and because in alert.detail
    assert alert.link == f"/admin/campaigns/campaign/{campaign.pk}/change/"


def handed_over(campaign) -> int:
    return campaign.recipients.filter(message__isnull=False).count()


# --- quality ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_reading_medium_quality_pauses_the_campaign_before_its_next_batch():
    campaign = running_campaign(contacts=3)
    channels.phone_number_record_health(
        phone_number=campaign.phone_number,
        quality_rating=QualityRating.YELLOW,
        throughput_level=None,
        messaging_limit_tier=None,
        now=timezone.now(),
    )
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 0 and "quality" in result.stopped
    assert_paused_by_safety(campaign, because="quality rating dropped to yellow (medium)")
    assert handed_over(campaign) == 0
    # Checked again (the next tick, beat's count): still paused, still one alert, nothing sent.
    assert campaign_run(campaign_id=campaign.pk, sleep=pytest.fail) == 0
    count_outcomes()
    assert_paused_by_safety(campaign, because="medium")


@pytest.mark.django_db
def test_staff_resuming_at_medium_quality_accept_it_and_only_a_further_drop_pauses_again():
    campaign = running_campaign(contacts=2, throughput=2)  # one per batch
    campaign.phone_number.quality_rating = QualityRating.YELLOW
    campaign.phone_number.save(update_fields=["quality_rating"])
    campaign_send_due(campaign=campaign, now=timezone.now())
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED
    with pytest.raises(CampaignTransitionRefused):  # never by itself
        campaign_transition(campaign=campaign, name="resume", cause=CampaignCause.SAFETY)
    campaign_transition(campaign=campaign, name="resume", cause=CampaignCause.STAFF)
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.quality_accepted) == (S.RUNNING, QualityRating.YELLOW)
    campaign.phone_number.quality_rating = QualityRating.RED
    campaign.phone_number.save(update_fields=["quality_rating"])
    assert safety.safety_check(campaign) == "its number's quality rating dropped to red (low)"
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED and handed_over(campaign) == 1


def quality_update(number, event: str) -> bytes:
    """Meta's phone_number_quality_update for the number (docs/cloud-api.md: FLAGGED, with limit fields)."""
    value = {
        "display_phone_number": "".join(ch for ch in number.display_phone_number if ch.isdigit()),
        "event": event,
        "current_limit": "TIER_1K",
        "old_limit": "TIER_10K",
    }
    body = envelope("phone_number_quality_update", value, waba_id=number.business_account.waba_id)
    return json.dumps(body).encode()


@pytest.mark.django_db
def test_metas_quality_webhook_flagging_the_number_pauses_its_running_campaigns(client):
    campaign = running_campaign(contacts=2)
    other_number = running_campaign()  # another number: not concerned
    staff_paused = running_campaign(phone_number=campaign.phone_number, status=S.PAUSED)
    assert post_webhook(client, quality_update(campaign.phone_number, "FLAGGED")).status_code == 200
    inbox.inbox_drain()  # as the worker does
    assert_paused_by_safety(campaign, because="quality flagged")
    other_number.refresh_from_db()
    staff_paused.refresh_from_db()
    assert (other_number.status, staff_paused.status) == (S.RUNNING, S.PAUSED)
    assert not alerts(staff_paused).exists()
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 0


# --- the template ---------------------------------------------------------------------------------


def template_fixture(name: str, template) -> bytes:
    """A template webhook fixture from tests/fixtures/webhooks, about `template`."""
    body = webhook(name)
    value = body["entry"][0]["changes"][0]["value"]
    value["message_template_id"] = int(template.meta_template_id)
    value["message_template_name"] = template.name
    return json.dumps(body).encode()


@pytest.mark.django_db
def test_metas_template_disabled_webhook_pauses_the_campaign():
    campaign = running_campaign(contacts=2, phone_number__business_account__waba_id=WABA_ID)
    deliver(template_fixture("wa-cloud-api-types__template_disabled.json", campaign.template))
    campaign.template.refresh_from_db()
    assert campaign.template.status == TemplateStatus.DISABLED
    assert_paused_by_safety(campaign, because=f"its template {campaign.template.name} was disabled by Meta")


@pytest.mark.django_db
def test_metas_category_update_moving_the_template_pauses_the_campaign():
    template = TemplateFactory(category=TemplateCategory.UTILITY, business_account__waba_id=WABA_ID)
    campaign = running_campaign(
        contacts=2,
        template=template,
        transactional=True,
        phone_number__business_account=template.business_account,
    )
    deliver(template_fixture("wa-cloud-api-types__template_category_completed.json", template))
    template.refresh_from_db()
    assert template.category == TemplateCategory.MARKETING
    assert_paused_by_safety(campaign, because="moved from UTILITY to MARKETING")


@pytest.mark.django_db
def test_metas_notice_of_an_impending_category_change_does_not_pause():
    template = TemplateFactory(category=TemplateCategory.UTILITY, business_account__waba_id=WABA_ID)
    campaign = running_campaign(
        template=template, transactional=True, phone_number__business_account=template.business_account
    )
    templates.template_apply_category(
        template=template,
        category=TemplateCategory.MARKETING,
        at=timezone.now(),
        cause=ChangeCause.WEBHOOK,
        impending=True,
    )
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING and not alerts(campaign).exists()


# --- failures -------------------------------------------------------------------------------------


def failed_sends(campaign, n: int, *, code=131026, error_class="recipient"):
    for _ in range(n):
        recipient = sent_recipient(campaign, message_status=MessageStatus.FAILED)
        OutboundMessage.objects.filter(pk=recipient.message_id).update(error_code=code, error_class=error_class)


@pytest.mark.django_db
def test_failures_past_the_share_of_the_window_pause_and_the_window_is_one_query(settings, django_assert_num_queries):
    settings.WACO_CAMPAIGN_FAILURE_WINDOW, settings.WACO_CAMPAIGN_FAILURE_RATE = 10, 0.2  # over 2 of the last 10
    campaign = running_campaign()
    failed_sends(campaign, 2)
    for _ in range(5):
        sent_recipient(campaign, message_status=MessageStatus.DELIVERED)
    failed_sends(campaign, 1, code=131049, error_class="later")  # the per-user cap: not the channel's health
    failed_sends(campaign, 1, code=None, error_class="policy")  # our own refusal: Meta never saw it
    with django_assert_num_queries(1):
        assert safety.failure_reason(campaign) == ""
    failed_sends(campaign, 1)  # 3 of the last 10
    with django_assert_num_queries(1):
        assert safety.failure_reason(campaign) == "3 of its last 10 sends failed (the limit is 20%)"
    with django_assert_num_queries(1):  # what the sender asks before each batch: quality, opt-outs, failures
        assert safety.safety_reason(campaign) == "3 of its last 10 sends failed (the limit is 20%)"
    for _ in range(8):  # the window slides: the first two failures leave it
        sent_recipient(campaign, message_status=MessageStatus.DELIVERED)
    assert safety.failure_reason(campaign) == ""


@pytest.mark.django_db
def test_failures_before_staff_resumed_do_not_count_again(settings):
    settings.WACO_CAMPAIGN_FAILURE_WINDOW, settings.WACO_CAMPAIGN_FAILURE_RATE = 10, 0.2
    campaign = running_campaign(contacts=1)
    failed_sends(campaign, 3)
    count_outcomes()  # beat's count checks the running campaign
    assert_paused_by_safety(campaign, because="3 of its last 10 sends failed")
    campaign_transition(campaign=campaign, name="resume", cause=CampaignCause.STAFF)
    result = campaign_send_due(campaign=campaign, now=timezone.now())
    assert result.enqueued == 1 and result.completed
    assert alerts(campaign).count() == 1


# --- opt-outs -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_recipients_saying_stop_past_the_threshold_pause_the_campaign(settings, seed_keywords):
    settings.WACO_CAMPAIGN_OPT_OUT_MIN, settings.WACO_CAMPAIGN_OPT_OUT_RATE = 3, 0.1
    campaign = running_campaign()
    received = [sent_recipient(campaign, message_status=MessageStatus.DELIVERED) for _ in range(10)]
    for recipient in received:  # they had said yes before the campaign
        consent(recipient.contact)
    campaign_totals_refresh(campaign)  # beat's count: ten delivered
    chats = [Chat(campaign.phone_number, wa_id=r.contact.wa_id) for r in received]
    for chat in chats[:2]:
        chat.says("stop")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.opt_outs) == (S.RUNNING, 2)  # under the minimum
    chats[2].says("stop")
    assert_paused_by_safety(campaign, because="3 of the 10 recipients who received it opted out")
    chats[2].says("stop")  # the same customer again counts once
    chats[3].says("stop")
    campaign.refresh_from_db()
    assert campaign.opt_outs == 4
    assert alerts(campaign).count() == 1
    assert set(campaign.recipients.exclude(opted_out_at=None).values_list("pk", flat=True)) == {
        r.pk for r in received[:4]
    }


@pytest.mark.django_db
def test_an_opt_out_before_receiving_the_campaign_is_not_counted_against_it(settings):
    settings.WACO_CAMPAIGN_OPT_OUT_MIN = 1
    campaign = running_campaign()
    queued = sent_recipient(campaign, message_status=MessageStatus.QUEUED, contact=ContactFactory())
    safety.opt_out_apply(contact_id=queued.contact_id, category="marketing", at=timezone.now())
    campaign.refresh_from_db()
    assert (campaign.status, campaign.opt_outs) == (S.RUNNING, 0)


# --- with a real worker and the sandbox -----------------------------------------------------------

# The failure window of the worker too: over 2 failures among the last 20 sends.
WINDOW_ENV = {"WACO_CAMPAIGN_FAILURE_WINDOW": "20", "WACO_CAMPAIGN_FAILURE_RATE": "0.1"}


@pytest.fixture
def shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    settings.WACO_CAMPAIGN_FAILURE_WINDOW, settings.WACO_CAMPAIGN_FAILURE_RATE = 20, 0.1
    shop = sandbox_shop_open(settings, live_server, tmp_path, env=WINDOW_ENV)
    yield shop
    shop.close()


def started(campaign):
    """The campaign's turn asked of the worker, as a staff start does."""
    tasks.campaign_send_ring(campaign.pk)


@pytest.mark.worker
def test_an_injected_error_rate_pauses_the_campaign_and_it_stays_paused_until_staff_resume(shop):
    campaign = sandbox_campaign(shop, contacts=40, throughput=4)  # 2 sends/s: the failures come first
    sandbox.config_update(changes={"sync_error_rates": {"131026": 0.5}})
    started(campaign)

    wait_until(lambda: campaign.changes.filter(transition="pause").exists(), timeout=60, message="the safety pause")
    wait_drained(timeout=60)
    assert_paused_by_safety(campaign, because="sends failed (the limit is 10%)")
    handed = handed_over(campaign)
    assert campaign.recipients.filter(status=RecipientStatus.PENDING, message__isnull=True).count() == 40 - handed
    failed = OutboundMessage.objects.filter(campaign_recipients__campaign=campaign, status=MessageStatus.FAILED)
    assert failed.count() > 2

    # Paused it stays: a tick asks for its turn, which sends nothing.
    tasks.tick()
    wait_drained(timeout=60)
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED and handed_over(campaign) == handed

    # Staff fixed the cause and resumed: it goes on to the end (faster now), judged only on what follows.
    sandbox.config_update(changes={"sync_error_rates": {}})
    shop.number.throughput_mps = 80
    shop.number.save(update_fields=["throughput_mps"])
    campaign_transition(campaign=campaign, name="resume", cause=CampaignCause.STAFF)
    started(campaign)
    wait_until(
        lambda: campaign.changes.filter(transition="complete").exists(), timeout=90, message="the campaign to finish"
    )
    wait_drained(timeout=60)
    assert handed_over(campaign) == 40
    assert alerts(campaign).count() == 1


@pytest.mark.worker
def test_meta_pausing_the_template_pauses_the_campaign_through_the_worker(shop):
    campaign = sandbox_campaign(shop, contacts=30, throughput=2)  # 1 send/s: still running when Meta pauses it
    started(campaign)
    wait_until(lambda: handed_over(campaign) >= 2, timeout=60, message="the first sends")

    shop.set_status(campaign.template.name, "PAUSED", reason="LOW_QUALITY")
    sandbox.deliveries_flush(horizon_seconds=60)  # to the live server's webhook: the worker drains it

    wait_until(lambda: campaign.changes.filter(transition="pause").exists(), timeout=60, message="the safety pause")
    wait_drained(timeout=60)
    assert_paused_by_safety(campaign, because=f"its template {campaign.template.name} was paused by Meta")
    handed = handed_over(campaign)
    assert handed < 30
    tasks.tick()
    wait_drained(timeout=60)
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED and handed_over(campaign) == handed


@pytest.mark.django_db
def test_staff_resuming_a_safety_pause_resolve_its_alert_and_a_new_trigger_raises_a_new_one():
    campaign = running_campaign(contacts=2)
    campaign.phone_number.quality_rating = QualityRating.YELLOW
    campaign.phone_number.save(update_fields=["quality_rating"])
    campaign_send_due(campaign=campaign, now=timezone.now())
    assert Alert.objects.get(kind=safety.ALERT_KIND).resolved_at is None

    campaign_press(campaign=campaign, name="resume", cause=CampaignCause.STAFF)
    assert Alert.objects.get(kind=safety.ALERT_KIND).resolved_at is not None
    campaign.phone_number.quality_rating = QualityRating.RED
    campaign.phone_number.save(update_fields=["quality_rating"])
    safety.safety_check(campaign)
    assert Alert.objects.filter(kind=safety.ALERT_KIND, resolved_at__isnull=True).count() == 1
