"""What became of each recipient's message (sent, delivered, read, replied, ordered, failed), and a
campaign's totals.

How the outcomes reach a recipient:
- Meta's statuses, by a sync: `recipients_sync` reads the recipients whose outbound message changed
  since its last run started (less SYNC_OVERLAP, for a status transaction that committed after the
  `updated_at` it wrote) and raises each one to what its message says. Beat runs it every few seconds
  for the campaigns that may still change. Every write is a conditional UPDATE (`status IN` the lower
  statuses), so it is idempotent and never lowers what a reply or an order set meanwhile: a duplicated,
  reordered or re-read status changes nothing twice, and a killed worker loses nothing (the next run
  reads the message again). Outbound's `message_status_changed` is sent after commit, only for forward
  moves and not for failures (outbound.outcomes.fail), so a receiver of it alone could lose both.
- A reply: conversations.signals.inbound_message_recorded, inside the inbound message's transaction.
- A paid order: checkout.signals.order_paid, inside the payment's transaction.

A 131049 (Meta's per-user marketing cap) is not a plain failure: while the campaign may still send,
the recipient goes back to pending with a `retry_at` 24 h after the failure when that time falls
before the campaign's end and outside its quiet hours in the recipient's zone, and is retried once
(campaigns.sending); otherwise, or the second time, it is skipped with the reason `recent_131049`.

Totals are never counted by a page view: `campaign_totals_refresh` counts a campaign's recipients in
one GROUP BY into CampaignTotals, which beat does every TOTALS_EVERY_SECONDS; `campaign_totals` reads it.
Beat's count then checks each running campaign's safety triggers (campaigns.safety).
"""

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

from django.db.models import Count, DateTimeField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns import safety
from campaigns.expansion import META_MARKETING_CAP_ERROR
from campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    CampaignTotals,
    RecipientStatus,
    SkipReason,
)
from campaigns.sending import awake_at, zone_of
from conversations.intents import campaign_of_payload
from outbound.models import MessageStatus
from outbound.pricing import Billable, costs_for
from waco.contacts.timezones import country_of

R = RecipientStatus
# Outcomes rise in this order; a recipient's status is only ever replaced by a later one.
RANK = {R.PENDING: 0, R.SENT: 1, R.DELIVERED: 2, R.READ: 3, R.REPLIED: 4, R.ORDERED: 5}
# A failure counts only before delivery (Meta may report one after a `delivered`: it changes nothing).
FAILABLE = (R.PENDING, R.SENT)
# What a recipient takes from its message's status; the others (queued, accepted...) say nothing yet.
FROM_MESSAGE = {
    MessageStatus.SENT: R.SENT,
    MessageStatus.DELIVERED: R.DELIVERED,
    MessageStatus.READ: R.READ,
    MessageStatus.PLAYED: R.READ,
    MessageStatus.FAILED: R.FAILED,
}
# Meta charges a message once delivered; its pricing (category, free or not) comes with the statuses.
CHARGED = (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED)
# A status transaction commits shortly after the `updated_at` it wrote; each sync reads this far back.
SYNC_OVERLAP = timedelta(minutes=2)
SYNC_BATCH = 1000
# Totals are at most about this old (beat's period): a page never counts recipients itself.
TOTALS_EVERY_SECONDS = 4
# Late statuses still come after a campaign ended: beat follows it this long after its last change.
FOLLOW_AFTER_END = timedelta(days=2)
# A reply or an order can be attributed to a recipient in these (a failed message never arrived).
ATTRIBUTABLE = (R.PENDING, R.SENT, R.DELIVERED, R.READ, R.REPLIED, R.ORDERED)
# Meta's per-user marketing cap: no marketing to that user for about a day, so one retry a day later.
RETRY_AFTER_131049 = timedelta(hours=24)


def _below(status: str) -> list[str]:
    return [lower for lower, rank in RANK.items() if rank < RANK[status]]


_FIELDS = (
    "pk",
    "status",
    "sent_at",
    "cost",
    "retry_at",
    "message_id",
    "contact__wa_id",
    "contact__user_id",
    "contact__time_zone",
    "message__status",
    "message__status_at",
    "message__sent_at",
    "message__delivered_at",
    "message__failed_at",
    "message__error_code",
    "message__error_detail",
    "message__pricing_category",
    "message__pricing_type",
)


def recipients_sync(*, campaign: Campaign, full: bool = False) -> int:
    """Raise each recipient's status (and fill its send time, error and cost) from its outbound message.

    Reads only the recipients whose message changed since the last sync started, less SYNC_OVERLAP
    (all of them when `full`). Returns how many recipients it changed."""
    started = timezone.now()
    totals, _ = CampaignTotals.objects.get_or_create(campaign=campaign)
    rows = CampaignRecipient.objects.filter(campaign=campaign, message__status__in=FROM_MESSAGE).exclude(
        status=R.SKIPPED
    )
    if totals.synced_through and not full:
        rows = rows.filter(message__updated_at__gte=totals.synced_through - SYNC_OVERLAP)
    changed = 0
    for batch in _batches(rows.order_by("pk").values(*_FIELDS).iterator(chunk_size=SYNC_BATCH), SYNC_BATCH):
        changed += sum(_apply_status(row, campaign=campaign) for row in batch)
        changed += _apply_costs(batch)
    CampaignTotals.objects.filter(campaign=campaign).update(synced_through=started, updated_at=timezone.now())
    return changed


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield batch


def _apply_status(row: dict, *, campaign: Campaign) -> int:
    target = FROM_MESSAGE[row["message__status"]]
    recipient = CampaignRecipient.objects.filter(pk=row["pk"])
    sent_at = Coalesce(F("sent_at"), Value(row["message__sent_at"], output_field=DateTimeField()))
    if target == R.FAILED:
        if row["status"] not in FAILABLE:
            return 0
        if row["message__error_code"] == META_MARKETING_CAP_ERROR:
            return _apply_131049(row, campaign=campaign)
        return recipient.filter(status__in=FAILABLE).update(
            status=R.FAILED,
            status_at=row["message__failed_at"] or row["message__status_at"],
            error_code=row["message__error_code"],
            error_title=(row["message__error_detail"] or "")[:255],
            updated_at=timezone.now(),
        )
    if row["status"] in RANK and RANK[row["status"]] < RANK[target]:
        return recipient.filter(status__in=_below(target)).update(
            status=target, status_at=row["message__status_at"], sent_at=sent_at, updated_at=timezone.now()
        )
    if row["sent_at"] is None and row["message__sent_at"] is not None:
        return recipient.filter(sent_at__isnull=True).update(sent_at=row["message__sent_at"])
    return 0


def _apply_131049(row: dict, *, campaign: Campaign) -> int:
    """Back to pending for one retry 24 h after the failure, if the campaign may still send then (before
    its end, outside the recipient's quiet hours); else skipped. Only while the row still holds this message."""
    failed_at = row["message__failed_at"] or row["message__status_at"] or timezone.now()
    retry_at = failed_at + RETRY_AFTER_131049
    zone = zone_of(time_zone=row["contact__time_zone"], wa_id=row["contact__wa_id"], user_id=row["contact__user_id"])
    retry = (
        row["retry_at"] is None  # retried once already: never twice
        and campaign.status in (CampaignStatus.RUNNING, CampaignStatus.PAUSED)
        and (campaign.ends_at is None or retry_at < campaign.ends_at)
        and awake_at(campaign, zone=zone, at=retry_at)
    )
    recipient = CampaignRecipient.objects.filter(pk=row["pk"], status__in=FAILABLE, message_id=row["message_id"])
    error = {
        "error_code": row["message__error_code"],
        "error_title": (row["message__error_detail"] or "")[:255],
        "status_at": failed_at,
        "updated_at": timezone.now(),
    }
    if retry:
        return recipient.update(status=R.PENDING, message=None, retry_at=retry_at, **error)
    return recipient.update(status=R.SKIPPED, skip_reason=SkipReason.RECENT_131049, **error)


def _apply_costs(batch: list[dict]) -> int:
    """What each newly delivered message costs, from its pricing category and the contact's country."""
    due = [
        row
        for row in batch
        if row["cost"] is None and row["message__status"] in CHARGED and row["message__pricing_category"]
    ]
    billables = [
        Billable(
            country_of(wa_id=row["contact__wa_id"] or None, user_id=row["contact__user_id"] or None),
            row["message__pricing_category"],
            (row["message__delivered_at"] or row["message__sent_at"] or timezone.now()).date(),
        )
        for row in due
    ]
    changed = 0
    for row, cost in zip(due, costs_for(billables), strict=True):
        if (row["message__pricing_type"] or "").startswith("free"):
            cost = Decimal(0)  # Meta's free entry points and customer service replies
        if cost is not None:
            changed += CampaignRecipient.objects.filter(pk=row["pk"], cost__isnull=True).update(cost=cost)
    return changed


def _attributable(recipients, *, at: datetime) -> CampaignRecipient | None:
    """The latest of the recipients sent at most its campaign's attribution_days before `at`."""
    candidates = (
        recipients.filter(status__in=ATTRIBUTABLE)
        .exclude(message__status=MessageStatus.FAILED)
        .annotate(sent=Coalesce("sent_at", "message__sent_at"))
        .filter(sent__lte=at)
        .select_related("campaign")
        .order_by("-sent", "-pk")
    )
    for recipient in candidates[:50]:
        if at - recipient.sent <= timedelta(days=recipient.campaign.attribution_days):
            return recipient
    return None


def _changed(campaign_id: int) -> None:
    CampaignTotals.objects.filter(campaign_id=campaign_id).update(changed_at=timezone.now())


def recipient_replied(
    *, contact_id: int, phone_number_id: int, at: datetime, campaign_id: int | None = None
) -> CampaignRecipient | None:
    """A customer's message on a number: the latest recipient of a campaign from that number sent to
    them within its attribution window becomes replied (unless it already replied or ordered). A tap
    on a campaign's button names its campaign (`campaign_id`, from the payload): that one, not the latest."""
    recipients = CampaignRecipient.objects.filter(contact_id=contact_id, campaign__phone_number_id=phone_number_id)
    if campaign_id is not None:
        recipients = recipients.filter(campaign_id=campaign_id)
    recipient = _attributable(recipients, at=at)
    if recipient is None or recipient.status not in _below(R.REPLIED):
        return None
    return _attribute(recipient, Q(status__in=_below(R.REPLIED)), status=R.REPLIED, replied_at=at)


def recipient_ordered(*, order) -> CampaignRecipient | None:
    """A paid order: the latest recipient of a campaign of the order's business account sent to its
    contact within the attribution window takes the order and its revenue, once. If that recipient
    already has an order, a second one is not counted."""
    if CampaignRecipient.objects.filter(order=order).exists():
        return None
    at = order.paid_at or timezone.now()
    recipient = _attributable(
        CampaignRecipient.objects.filter(
            contact_id=order.contact_id, campaign__business_account_id=order.business_account_id
        ),
        at=at,
    )
    if recipient is None or recipient.order_id is not None:
        return None
    return _attribute(
        recipient,
        Q(order__isnull=True, status__in=ATTRIBUTABLE),
        status=R.ORDERED,
        order=order,
        revenue_minor=order.total_minor,
        ordered_at=at,
    )


def _attribute(recipient: CampaignRecipient, still: Q, **fields) -> CampaignRecipient | None:
    """Move the recipient if it still fits `still` (a concurrent outcome may have won), keeping its
    send time; its campaign's totals are then recounted."""
    updated = CampaignRecipient.objects.filter(still, pk=recipient.pk).update(
        sent_at=Coalesce(F("sent_at"), Value(recipient.sent, output_field=DateTimeField())),
        updated_at=timezone.now(),
        **fields,
    )
    if not updated:
        return None
    _changed(recipient.campaign_id)
    return recipient


def inbound_message_recorded(sender, message, **kwargs) -> None:
    """Receiver of conversations.signals.inbound_message_recorded."""
    thread = message.thread
    tapped = (message.payload or {}).get("button") or {}  # a template's quick-reply button, as Meta sends it
    recipient_replied(
        contact_id=thread.contact_id,
        phone_number_id=thread.phone_number_id,
        at=message.sent_at,
        campaign_id=campaign_of_payload(tapped.get("payload")),
    )


def order_paid(sender, order, **kwargs) -> None:
    """Receiver of checkout.signals.order_paid."""
    recipient_ordered(order=order)


def campaign_totals_refresh(campaign: Campaign, *, sync: bool = True) -> CampaignTotals:
    """Sync the recipients from their messages (unless told not to), then count them in one GROUP BY."""
    if sync:
        recipients_sync(campaign=campaign)
    started = timezone.now()
    counts = dict.fromkeys(R.values, 0)
    skipped: dict[str, int] = {}
    cost, revenue = Decimal(0), 0
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign)
        .values("status", "skip_reason")
        .annotate(n=Count("pk"), cost=Sum("cost"), revenue=Sum("revenue_minor"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
        if row["skip_reason"]:
            skipped[row["skip_reason"]] = skipped.get(row["skip_reason"], 0) + row["n"]
        cost += row["cost"] or 0
        revenue += row["revenue"] or 0
    totals, _ = CampaignTotals.objects.update_or_create(
        campaign=campaign,
        defaults={"counts": counts, "skipped": skipped, "cost": cost, "revenue_minor": revenue, "counted_at": started},
    )
    return totals


def campaign_totals(campaign: Campaign) -> CampaignTotals:
    """The campaign's counts per status and skip reason, its cost and revenue, as beat last counted
    them (at most about TOTALS_EVERY_SECONDS old while it may change); counted now only if never yet."""
    totals = CampaignTotals.objects.filter(campaign=campaign, counted_at__isnull=False).first()
    return totals or campaign_totals_refresh(campaign)


def campaigns_to_count(now: datetime | None = None):
    """Campaigns whose totals may change: sending, recently ended, or touched by a reply or an order."""
    now = now or timezone.now()
    return Campaign.objects.filter(
        Q(status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED))
        | Q(status__in=(CampaignStatus.COMPLETED, CampaignStatus.CANCELLED), updated_at__gte=now - FOLLOW_AFTER_END)
        | Q(totals__changed_at__gte=F("totals__counted_at"))
        | Q(totals__changed_at__isnull=False, totals__counted_at__isnull=True)
    )


def count_outcomes() -> int:
    """Sync and count each campaign whose totals may change (beat's job, campaigns.tasks). Returns how many."""
    campaigns = list(campaigns_to_count().select_related("phone_number"))
    for campaign in campaigns:
        campaign_totals_refresh(campaign)
        if campaign.status == CampaignStatus.RUNNING:
            safety.safety_check(campaign)  # a trigger between batches (or with nothing left to send) acts now
    return len(campaigns)
