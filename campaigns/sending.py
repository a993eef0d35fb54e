"""Sending a running campaign: its pending recipients go to the outbox, paced, in their waking hours.

A run walks the campaign's pending recipients by id in batches. Each batch is one transaction
that locks the campaign row first (a pause or cancel committed before it stops the batch; one
asked during it waits for its commit) and then its recipient rows with SKIP LOCKED, so two runs
never take the same recipient. For each recipient: its zone (the contact's, else the shop's) and
the campaign's quiet hours say whether it may go now; those in quiet hours are passed over and
wait for a later run. The rest go to outbound.services.message_enqueue, at most as many as the
campaign's rate key grants (a share of the number's throughput): the outbox never holds more
than about a second of campaign traffic, and the number's own limiter (inbound traffic counted)
still paces the drain. A recipient handed over keeps its message (status stays pending until the
message's outcome says otherwise; campaigns.outcomes' work) in the batch's transaction, and the
message's dedupe key makes a second hand-over return the first message: nobody gets it twice.

Before each batch, campaigns.safety checks the campaign (its number's rating, the failure window,
its opt-outs) and pauses it when one trips. A recipient whose message met Meta's per-user marketing
cap (131049) may be back with a `retry_at` (campaigns.outcomes): it waits until then, and its retry
is a new message under its own dedupe key.

When expansion is done and nobody is left to hand over, or the end time has passed, the campaign
completes; recipients not handed over by its end are skipped with the reason `ended`.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from campaigns import safety
from campaigns.expansion import campaign_expand
from campaigns.models import Campaign, CampaignCause, CampaignRecipient, CampaignStatus, RecipientStatus, SkipReason
from campaigns.services import CampaignTransitionRefused, campaign_transition
from outbound import reach
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from outbound.policy import CATEGORY_OF_TEMPLATE, CONSENT_FOR_CATEGORY
from outbound.ratelimit import KEY_PREFIX, limiter
from outbound.services import message_enqueue
from waco.channels.models import PhoneNumber
from waco.contacts.models import ConsentAction, ConsentEntry
from waco.contacts.timezones import QuietHours, earliest_send_at, time_zone_of
from waco.doorbell import doorbell_hold, doorbell_silence

# Recipients locked per transaction: small enough that a pause waits little for a batch to commit.
SEND_BATCH = 200
# The campaign key's burst is this many seconds of its rate: what may enter the outbox at once.
PACE_SECONDS = 1.0
# Campaign messages queued for a number (not yet claimed by a drain) beyond this many seconds of the
# campaign's rate mean the drain is held (a cool-down after 130429, inbound traffic taking the number):
# hand over nothing more until it catches up, so the outbox never fills with an hour of offers.
BACKLOG_SECONDS = 10.0
# What the outbox calls a campaign message: subject_type, and the purpose whose chain a fallback would take.
SUBJECT_TYPE = "campaign"
PURPOSE = "campaign"


def dedupe_key(*, campaign_id: int, contact_id: int, retry: bool = False) -> str:
    # The retry after a 131049 is a message of its own: the first one's key returns the failed first.
    return f"campaign-{campaign_id}-{contact_id}" + ("-retry" if retry else "")


def campaign_rate_key(*, phone_number: PhoneNumber) -> str:
    # One key per number, shared by all its campaigns: together they stay within the share.
    return f"{KEY_PREFIX}:campaign:{phone_number.graph_id}"


def campaign_rate(*, phone_number: PhoneNumber) -> tuple[float, int]:
    """(messages/s, burst) campaigns may hand to the outbox for this number: the share of its throughput."""
    throughput = max(int(phone_number.throughput_mps), 1)  # 0 would divide by zero; pausing is sending_paused's
    rate = max(throughput * settings.WACO_CAMPAIGN_THROUGHPUT_SHARE, 0.01)
    return rate, max(1, math.ceil(rate * PACE_SECONDS))


def _grant(*, phone_number: PhoneNumber, count: int) -> tuple[int, float]:
    """How many of `count` campaign messages may enter the outbox now, and when one more could."""
    if count <= 0:
        return 0, 0.0
    rate, burst = campaign_rate(phone_number=phone_number)
    return limiter().acquire_upto(
        campaign_rate_key(phone_number=phone_number), count, rate_per_second=rate, burst=burst
    )


def _backlogged(*, phone_number: PhoneNumber) -> bool:
    rate, burst = campaign_rate(phone_number=phone_number)
    cap = max(burst, math.ceil(rate * BACKLOG_SECONDS))
    queued = OutboundMessage.objects.filter(
        phone_number=phone_number, status=MessageStatus.QUEUED, subject_type=SUBJECT_TYPE
    )
    return queued[:cap].count() >= cap


@dataclass
class SendResult:
    enqueued: int = 0  # handed to the outbox this run
    refused: int = 0  # refused by the policy (or skipped for consent lost since expansion)
    quiet: int = 0  # passed over: in their quiet hours now
    retry_after: float | None = None  # the rate key held some back: seconds until one more may go
    completed: bool = False  # this run completed the campaign
    stopped: str = ""  # why nothing (more) was sent, when not for the rate or the end of the list


def _sendable(campaign: Campaign, *, now: datetime) -> str:
    """Why the campaign may not send now; empty when it may."""
    if campaign.status != CampaignStatus.RUNNING:
        return f"the campaign is {campaign.status}"
    if campaign.starts_at and now < campaign.starts_at:
        return "its start time has not come"
    if campaign.ends_at and now >= campaign.ends_at:
        return "its end time has passed"
    if campaign.phone_number.sending_paused:
        return "its number's sending is paused"
    return ""


def _pending(campaign: Campaign, *, after: int, batch_size: int, now: datetime) -> list[CampaignRecipient]:
    """The next batch of recipients not yet handed over (a retry only once its time came), locked
    (others' locked rows skipped), with the newest consent of the template's category: one query."""
    category = CONSENT_FOR_CATEGORY[CATEGORY_OF_TEMPLATE[campaign.template.category]]
    newest = ConsentEntry.objects.filter(contact=OuterRef("contact"), category=category).order_by("-recorded_at", "-id")
    rows = (
        CampaignRecipient.objects.filter(
            Q(retry_at__isnull=True) | Q(retry_at__lte=now),
            campaign=campaign,
            status=RecipientStatus.PENDING,
            message__isnull=True,
            pk__gt=after,
        )
        .select_related("contact")
        .annotate(consent_now=Subquery(newest.values("action")[:1]))
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
    )
    return list(rows[:batch_size])


def zone_of(*, time_zone: str, wa_id: str, user_id: str) -> ZoneInfo:
    """A recipient's zone: the contact's, else its number's or BSUID's country's, else the shop's."""
    return time_zone_of(time_zone=time_zone, wa_id=wa_id or None, user_id=user_id or None) or ZoneInfo(
        settings.TIME_ZONE
    )


def awake_at(campaign: Campaign, *, zone: ZoneInfo, at: datetime) -> bool:
    """Whether `at` falls outside the campaign's quiet hours in `zone`."""
    quiet_hours = QuietHours(campaign.quiet_start, campaign.quiet_end)
    return earliest_send_at(at, zone=zone, quiet_hours=quiet_hours) == at


class _Zones:
    """Each recipient's zone and whether its clock is outside the quiet hours now, cached per zone for a run."""

    def __init__(self, campaign: Campaign, *, now: datetime):
        self.now = now
        self.campaign = campaign
        self._awake: dict[str, bool] = {}

    def awake(self, contact) -> bool:
        zone = zone_of(time_zone=contact.time_zone, wa_id=contact.wa_id, user_id=contact.user_id)
        if zone.key not in self._awake:
            self._awake[zone.key] = awake_at(self.campaign, zone=zone, at=self.now)
        return self._awake[zone.key]


def _share_admits(campaign: Campaign, recipient: CampaignRecipient, *, now: datetime) -> bool:
    """Count the recipient in the portfolio's reach before the enqueue, as the policy would.

    The policy refuses a marketing message past the share of the messaging limit and keeps the
    refusal under the recipient's dedupe key for good; when the share is full every following
    recipient would be refused too, and a run would burn the whole audience. Admitted here, the
    policy's own check finds the user already counted and lets it through; refused, the recipient
    stays pending and the run stops until the 24 h window frees room.
    """
    account = campaign.business_account
    limit = account.messaging_limit
    if CATEGORY_OF_TEMPLATE[campaign.template.category] != MessageCategory.MARKETING or limit is None:
        return True
    try:
        return reach.reach_admit(
            business_account=account,
            contact_id=recipient.contact_id,
            allowed=int(limit * settings.WACO_MARKETING_LIMIT_SHARE),
            now=now,
        )
    except reach.ReachUnknown:
        return False  # fail closed, as the policy does: try again on a later run


def _skip_without_consent(recipient: CampaignRecipient) -> None:
    """Consent lost since expansion (an opt-out mid-campaign): the policy would refuse the message,
    so the recipient is skipped with its reason and no failed message fills the outbox."""
    recipient.status = RecipientStatus.SKIPPED
    recipient.skip_reason = (
        SkipReason.OPTED_OUT if recipient.consent_now == ConsentAction.OPT_OUT else SkipReason.NO_CONSENT
    )
    recipient.save(update_fields=["status", "skip_reason", "updated_at"])


def _hand_over(campaign: Campaign, recipient: CampaignRecipient, *, now: datetime) -> bool:
    """Enqueue the recipient's message and record it on its row; False: the policy refused it."""
    message = message_enqueue(
        phone_number=campaign.phone_number,
        contact=recipient.contact,
        category=CATEGORY_OF_TEMPLATE[campaign.template.category],
        purpose=PURPOSE,
        template=campaign.template,
        template_params=recipient.params,
        dedupe_key=dedupe_key(
            campaign_id=campaign.pk, contact_id=recipient.contact_id, retry=recipient.retry_at is not None
        ),
        subject_type=SUBJECT_TYPE,
        subject_id=recipient.pk,
        keep_refusal=True,
        now=now,
    )
    # The message is the hand-over's mark: `sent_at` stays Meta's (campaigns.outcomes copies it from the message).
    recipient.message = message
    fields = ["message", "updated_at"]
    refused = message.status == MessageStatus.FAILED and message.error_class == "policy"
    if refused:
        # The policy refused it (consent revoked between our read and its own, the template no
        # longer sendable, the share's count unreachable): the failed message keeps the reason and,
        # under the dedupe key, is what every later enqueue returns, so the recipient is done:
        # failed, with the policy's reason as its title (no Meta error code: Meta never saw it).
        recipient.status = RecipientStatus.FAILED
        recipient.error_title = message.error_detail[:255]
        recipient.status_at = now
        fields += ["status", "error_title", "status_at"]
    recipient.save(update_fields=fields)
    return not refused


def campaign_send_due(*, campaign: Campaign, now: datetime, batch_size: int = SEND_BATCH) -> SendResult:
    """Hand the campaign's due recipients to the outbox, within its share of the number's throughput.

    Sends nothing unless the campaign is running between its start and end times. Recipients in
    their quiet hours are passed over (a later run takes them). Completes the campaign when nobody
    is left to hand over after expansion, or when its end time has passed."""
    result = SendResult()
    after = 0
    zones = None
    while True:
        with transaction.atomic():
            locked = (
                Campaign.objects.select_for_update(of=("self",))
                .select_related("template", "phone_number", "business_account")
                .get(pk=campaign.pk)
            )
            if why := _sendable(locked, now=now):
                result.stopped = why
                break
            if why := safety.safety_reason(locked):  # under the campaign's lock: the batch waits for the pause
                safety.safety_pause(locked, reason=why, now=now)
                result.stopped = f"paused: {why}"
                break
            if _backlogged(phone_number=locked.phone_number):
                result.stopped = "the outbox holds enough of the number's campaign messages"
                break
            zones = zones or _Zones(locked, now=now)
            batch = _pending(locked, after=after, batch_size=batch_size, now=now)
            if not batch:
                break
            after = batch[-1].pk
            awake = []
            for recipient in batch:
                if recipient.consent_now != ConsentAction.OPT_IN:
                    _skip_without_consent(recipient)
                    result.refused += 1
                elif zones.awake(recipient.contact):
                    awake.append(recipient)
                else:
                    result.quiet += 1
            granted, retry_after = _grant(phone_number=locked.phone_number, count=len(awake))
            for recipient in awake[:granted]:
                if not _share_admits(locked, recipient, now=now):
                    result.stopped = "the marketing share of the messaging limit is full"
                    break
                if _hand_over(locked, recipient, now=now):
                    result.enqueued += 1
                else:
                    result.refused += 1
            if result.stopped:
                break
            if granted < len(awake):
                result.retry_after = retry_after
                break
    result.completed = _complete_if_done(campaign, now=now)
    campaign.refresh_from_db(fields=["status", "updated_at"])
    return result


def _complete_if_done(campaign: Campaign, *, now: datetime) -> bool:
    """Complete a running campaign past its end, or one whose every recipient was handed over.

    Past the end, recipients never handed over become skipped (the campaign ended) with the completion;
    those already in the outbox keep their messages (outbound offers no way to withdraw one)."""
    current = Campaign.objects.filter(pk=campaign.pk).values("status", "ends_at", "expansion_done").get()
    if current["status"] != CampaignStatus.RUNNING:
        return False
    if current["ends_at"] and now >= current["ends_at"]:
        cause, detail = CampaignCause.SCHEDULE, "its end time passed"
    elif (
        current["expansion_done"]
        and not campaign.recipients.filter(status=RecipientStatus.PENDING, message__isnull=True).exists()
    ):
        cause, detail = CampaignCause.SYSTEM, "every recipient was handed to the outbox or skipped"
    else:
        return False
    try:
        with transaction.atomic():
            campaign_transition(campaign=campaign, name="complete", cause=cause, detail=detail, now=now)
            campaign.recipients.filter(status=RecipientStatus.PENDING, message__isnull=True).update(
                status=RecipientStatus.SKIPPED, skip_reason=SkipReason.ENDED, updated_at=now
            )
    except CampaignTransitionRefused:  # paused or cancelled meanwhile
        return False
    return True


def campaigns_start_due(*, now: datetime) -> list[int]:
    """Start each scheduled campaign whose start time has come; the ids started."""
    started = []
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts_at__lte=now).order_by("starts_at", "pk")
    for campaign in due:
        try:
            campaign_transition(campaign=campaign, name="start", cause=CampaignCause.SCHEDULE, now=now)
        except CampaignTransitionRefused:  # cancelled (or started by staff) meanwhile
            continue
        started.append(campaign.pk)
    return started


def campaigns_running() -> list[int]:
    return list(Campaign.objects.filter(status=CampaignStatus.RUNNING).order_by("pk").values_list("pk", flat=True))


# --- a worker's run ---------------------------------------------------------------------------

# One task keeps sending for at most this long, then beat's next tick (or its own ring) takes over.
RUN_BUDGET_SECONDS = 20.0
# Waits shorter than this are not worth a sleep's wake-up; the grant comes back a burst at a time.
MIN_WAIT_SECONDS = 0.05


def doorbell_key(campaign_id: int) -> str:
    return f"waco:campaigns:{campaign_id}:send-requested"


def campaign_run(
    *,
    campaign_id: int,
    budget_seconds: float = RUN_BUDGET_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """A worker's turn at one campaign: expand what is left, then send until nothing is due now,
    the campaign stops, or the budget is spent; the messages handed over."""
    doorbell_silence(key=doorbell_key(campaign_id))
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return 0
    if not campaign.expansion_done:
        campaign_expand(campaign=campaign)  # resumable: a killed run leaves committed batches
    handed = 0
    deadline = clock() + budget_seconds
    while clock() < deadline:
        result = campaign_send_due(campaign=campaign, now=timezone.now())
        handed += result.enqueued
        if result.retry_after is None:  # nothing more due now (quiet hours, stopped, done)
            break
        doorbell_hold(key=doorbell_key(campaign_id))  # beat's rings meanwhile publish nothing
        # Wait for a burst's worth, not one message: a run per message would be a query per message.
        rate, burst = campaign_rate(phone_number=campaign.phone_number)
        wait = max(result.retry_after, burst / rate / 2, MIN_WAIT_SECONDS)
        sleep(min(wait, max(deadline - clock(), 0.0)))
    # A hold outlives the run by up to its TTL: a ring after the run (a staff resume) must publish.
    doorbell_silence(key=doorbell_key(campaign_id))
    return handed
