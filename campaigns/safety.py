"""Safety: a running campaign pauses itself, says why and alerts staff when the channel suffers.

The triggers:
- its number's quality rating is medium or low (a poll read it), or Meta's quality webhook says the
  number was flagged or its limit lowered (campaigns.handlers);
- its template was paused or disabled, or moved to another category (templates_lib's signals);
- more than WACO_CAMPAIGN_FAILURE_RATE of its last WACO_CAMPAIGN_FAILURE_WINDOW sends failed at Meta;
- more than WACO_CAMPAIGN_OPT_OUT_RATE of the recipients who received it opted out, and at least
  WACO_CAMPAIGN_OPT_OUT_MIN of them.

The sender checks before each batch and beat's count of outcomes after each sync
(`safety_check`: at most one query, the failure window, unless the opt-outs are near their
threshold); an event (a webhook, a signal, an opt-out) pauses at once. The pause goes through
campaign_transition with cause `safety`; only staff resume (campaign_transition refuses any other
cause), and a resume makes the triggers judge only what follows (Campaign.resume).
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from campaigns.expansion import META_MARKETING_CAP_ERROR
from campaigns.models import (
    Campaign,
    CampaignCause,
    CampaignRecipient,
    CampaignStatus,
    CampaignTotals,
    RecipientStatus,
    SkipReason,
)
from campaigns.services import CampaignTransitionRefused, campaign_transition
from outbound.models import MessageStatus, OutboundMessage
from outbound.policy import CATEGORY_OF_TEMPLATE, CONSENT_FOR_CATEGORY
from outbound.quality import WORSE_EVENTS
from templates_lib.models import TemplateStatus
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve_link
from waco.channels import selectors as channel_selectors
from waco.channels.models import QualityRating

ALERT_KIND = "campaign_paused"
# How bad a rating is; UNKNOWN (never read) is not a drop.
QUALITY_RANK = {QualityRating.GREEN: 0, QualityRating.UNKNOWN: 0, QualityRating.YELLOW: 1, QualityRating.RED: 2}
# Template statuses in which the campaign's sends would fail (132015 paused, 132016 disabled).
TEMPLATE_STOPPED = (TemplateStatus.PAUSED, TemplateStatus.DISABLED)
# Failures that say nothing of the channel's health: our own policy refused the message (Meta never
# saw it), or Meta's per-user marketing cap (META_MARKETING_CAP_ERROR, 131049), which
# campaigns.outcomes retries or skips.
POLICY_REFUSAL = "policy"
# A recipient's message reached the customer in these: an opt-out after it is the campaign's doing.
RECEIVED = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED)
RECEIVED_OUTCOMES = (
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.READ,
    RecipientStatus.REPLIED,
    RecipientStatus.ORDERED,
)


# --- pausing --------------------------------------------------------------------------------------


def _page(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def safety_alert_resolve(campaign: Campaign) -> int:
    """Staff resumed the campaign: its safety alert is dealt with (a new trigger raises a new one)."""
    return alert_resolve_link(kind=ALERT_KIND, link=_page(campaign))


def safety_pause(campaign: Campaign, *, reason: str, now: datetime | None = None) -> bool:
    """Pause the running campaign for `reason` and alert staff; False (nothing done) when it is not running.

    The alert is raised with the pause, so a trigger seen again (a second batch, a second webhook)
    finds the campaign paused already and raises nothing more."""
    try:
        with transaction.atomic():
            campaign_transition(campaign=campaign, name="pause", cause=CampaignCause.SAFETY, detail=reason, now=now)
            alert_raise(
                kind=ALERT_KIND,
                subject=f"campaign {campaign.name} (#{campaign.pk})",
                detail=f"Paused: {reason}. It stays paused until staff resume it.",
                severity=AlertSeverity.CRITICAL,
                link=_page(campaign),
            )
    except CampaignTransitionRefused:  # paused, completed or cancelled meanwhile
        return False
    campaign.refresh_from_db(fields=["status", "paused_reason", "updated_at"])
    return True


def safety_check(campaign: Campaign, *, now: datetime | None = None) -> str:
    """Pause the running campaign if a trigger holds; the reason, or empty when none does."""
    reason = safety_reason(campaign)
    if reason:
        safety_pause(campaign, reason=reason, now=now)
    return reason


def safety_reason(campaign: Campaign) -> str:
    """Why the campaign must pause now; empty when nothing is wrong. Reads the campaign's number
    (loaded with it by the sender) and one query, the failure window."""
    return quality_reason(campaign) or opt_out_reason(campaign) or failure_reason(campaign)


def quality_reason(campaign: Campaign) -> str:
    rating = campaign.phone_number.quality_rating
    accepted = QUALITY_RANK.get(campaign.quality_accepted, 0)  # staff resumed at this rating on purpose
    if QUALITY_RANK.get(rating, 0) > accepted:
        return f"its number's quality rating dropped to {QualityRating(rating).label.lower()}"
    return ""


def failure_reason(campaign: Campaign) -> str:
    """More than RATE x WINDOW failures among the campaign's last WINDOW messages, in one query.

    Judged against the whole window even while fewer have gone, so one or two failures among the
    first sends do not stop a campaign. Only messages since staff last resumed it count."""
    window = settings.WACO_CAMPAIGN_FAILURE_WINDOW
    allowed = settings.WACO_CAMPAIGN_FAILURE_RATE * window
    last = (
        CampaignRecipient.objects.filter(campaign=campaign, message__isnull=False)
        .order_by("-message_id")
        .values("message_id")[:window]
    )
    failures = (
        OutboundMessage.objects.filter(pk__in=last, status=MessageStatus.FAILED)
        .exclude(error_class=POLICY_REFUSAL)
        .exclude(error_code=META_MARKETING_CAP_ERROR)
    )
    if campaign.safety_from:
        failures = failures.filter(created_at__gte=campaign.safety_from)
    failed = failures.count()
    if failed > allowed:
        return f"{failed} of its last {window} sends failed (the limit is {settings.WACO_CAMPAIGN_FAILURE_RATE:.0%})"
    return ""


def opt_out_reason(campaign: Campaign) -> str:
    """Opt-outs (counted by `opt_out_apply`) over the share of recipients who received it, and at least
    the minimum; who received it is read from the totals (at most a few seconds old) only past the minimum."""
    if campaign.opt_outs < settings.WACO_CAMPAIGN_OPT_OUT_MIN:
        return ""
    counts = CampaignTotals.objects.filter(campaign=campaign).values_list("counts", flat=True).first() or {}
    received = sum(counts.get(status, 0) for status in RECEIVED_OUTCOMES)
    if campaign.opt_outs > settings.WACO_CAMPAIGN_OPT_OUT_RATE * received:
        return (
            f"{campaign.opt_outs} of the {received} recipients who received it opted out "
            f"(the limit is {settings.WACO_CAMPAIGN_OPT_OUT_RATE:.0%})"
        )
    return ""


def _running(**filters):
    return Campaign.objects.filter(status=CampaignStatus.RUNNING, **filters).select_related("phone_number")


# --- events: a webhook, a template's signals, an opt-out ----------------------------------------


def number_quality_dropped(*, waba_id: str | None, display_phone_number: str | None, event: str) -> list[int]:
    """Meta's phone_number_quality_update: a flag or a lowered limit pauses the number's running campaigns."""
    if event not in WORSE_EVENTS:
        return []
    number = channel_selectors.phone_number_by_display(waba_id=waba_id, display_phone_number=display_phone_number)
    if number is None:
        return []
    reason = f"Meta reported its number's quality {event.lower()}"
    return [campaign.pk for campaign in _running(phone_number=number) if safety_pause(campaign, reason=reason)]


def on_template_status_changed(sender, *, template, old, new, **kwargs) -> None:
    """Receiver of templates_lib.signals.template_status_changed (inside the template's transaction)."""
    if new in TEMPLATE_STOPPED:
        for campaign in _running(template=template):
            safety_pause(campaign, reason=f"its template {template.name} was {new} by Meta")


def on_template_category_changed(sender, *, template, old, new, impending=False, **kwargs) -> None:
    """Receiver of templates_lib.signals.template_category_changed: a completed move pauses (the notice
    before it does not); the campaign's consent, pacing and cost were decided for the old category."""
    if impending or old == new:
        return
    for campaign in _running(template=template):
        safety_pause(campaign, reason=f"its template {template.name} moved from {old} to {new}")


def opt_out_apply(*, contact_id: int, category: str, at: datetime) -> None:
    """A customer withdrew consent for `category`: in each running or paused campaign needing it, their
    recipient not yet handed to the outbox is skipped (a message already queued is refused by the
    outbox's check at send time); one who already received it counts once toward the opt-out trigger."""
    rows = (
        CampaignRecipient.objects.filter(
            contact_id=contact_id, campaign__status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED)
        )
        .select_related("campaign__template", "message")
        .order_by("pk")
    )
    for recipient in rows:
        campaign = recipient.campaign
        if CONSENT_FOR_CATEGORY[CATEGORY_OF_TEMPLATE[campaign.template.category]] != category:
            continue
        if recipient.status == RecipientStatus.PENDING and recipient.message_id is None:
            CampaignRecipient.objects.filter(
                pk=recipient.pk, status=RecipientStatus.PENDING, message__isnull=True
            ).update(status=RecipientStatus.SKIPPED, skip_reason=SkipReason.OPTED_OUT, updated_at=timezone.now())
        elif recipient.message and recipient.message.status in RECEIVED and recipient.opted_out_at is None:
            counted = CampaignRecipient.objects.filter(pk=recipient.pk, opted_out_at__isnull=True).update(
                opted_out_at=at
            )
            Campaign.objects.filter(pk=campaign.pk).update(opt_outs=F("opt_outs") + counted)
            if counted and campaign.status == CampaignStatus.RUNNING:
                campaign.refresh_from_db(fields=["opt_outs", "status"])
                if reason := opt_out_reason(campaign):
                    safety_pause(campaign, reason=reason)


def on_consent_changed(sender, *, contact, category, granted, entry, **kwargs) -> None:
    """Receiver of waco.contacts.services.consent_changed (inside the consent's transaction)."""
    if not granted:
        opt_out_apply(contact_id=contact.pk, category=category, at=entry.recorded_at)
