"""From a campaign's audience to its recipient rows, in set-based batches; and the preview of them.

Contacts are walked by id from the campaign's `expanded_through`. Each batch is one SELECT of the
segment's contacts, annotated with what decides a skip (newest consent of the category, a recent
marketing message, a recent 131049), one INSERT of its rows that ignores rows already there, and
the new `expanded_through`, all in one transaction: a process killed between batches resumes
after the last committed one, and a second run adds nobody (the unique campaign+contact and the
ignored conflicts see to it even if two runs overlap). Skips are rows too, with their reason.

The country (for the US marketing rule, the countries filter and the cost) is read per row in the
batch with waco.contacts.timezones.country_of, the rule quiet hours use: no query per row.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, JSONField, OuterRef, Q, Subquery
from django.utils import timezone

from campaigns.models import (
    ACTIVE_STATUSES,
    Audience,
    AudienceRow,
    Campaign,
    CampaignRecipient,
    RecipientStatus,
    SkipReason,
)
from campaigns.segments import segment_contacts, segment_matches_row, segment_validate
from campaigns.services import params_for
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from outbound.policy import CATEGORY_OF_TEMPLATE, CONSENT_FOR_CATEGORY
from outbound.pricing import Billable, costs_for
from waco.contacts.models import ConsentAction, ConsentEntry, Contact
from waco.contacts.timezones import country_of

# Meta's per-user marketing limit: after a 131049 the user takes no marketing for about a day.
META_MARKETING_CAP_WINDOW = timedelta(hours=24)
META_MARKETING_CAP_ERROR = 131049
# Meta delivers no marketing templates to US numbers (since April 2025).
NO_MARKETING_COUNTRIES = frozenset({"US"})
_COLUMNS = ("id", "wa_id", "user_id", "name", "profile_name", "username", "tags", "attributes")


class ExpansionRefused(ValidationError):
    """The campaign's audience cannot be expanded (yet): a CSV not uploaded, a bad segment, a closed campaign."""


@dataclass(frozen=True)
class Decided:
    contact_id: int
    skip_reason: str  # "" when it is to be sent
    country: str | None
    params: dict


def _category(campaign: Campaign) -> str:
    return CATEGORY_OF_TEMPLATE[campaign.template.category]


def _annotated(campaign: Campaign, *, now: datetime):
    """The segment's contacts with the columns a decision reads, in one SELECT."""
    category = _category(campaign)
    consent = ConsentEntry.objects.filter(contact=OuterRef("pk"), category=CONSENT_FOR_CATEGORY[category])
    annotations = {
        "consent": Subquery(consent.order_by("-recorded_at", "-id").values("action")[:1]),
    }
    if campaign.audience == Audience.CSV:
        rows = AudienceRow.objects.filter(campaign=campaign, contact=OuterRef("pk"))
        contacts = Contact.objects.filter(Exists(rows))
        annotations["csv"] = Subquery(rows.values("columns")[:1], output_field=JSONField())
    else:
        contacts = segment_contacts(segment=campaign.segment, business_account=campaign.business_account, now=now)
    if category == MessageCategory.MARKETING:
        capped_since = now - timedelta(hours=campaign.frequency_cap_hours)
        annotations["capped"] = Exists(
            OutboundMessage.objects.filter(
                contact=OuterRef("pk"), category=MessageCategory.MARKETING, created_at__gte=capped_since
            ).exclude(status=MessageStatus.FAILED)
        )
        refused_since = now - META_MARKETING_CAP_WINDOW
        annotations["refused"] = Exists(
            OutboundMessage.objects.filter(
                Q(failed_at__gte=refused_since) | Q(failed_at__isnull=True, updated_at__gte=refused_since),
                contact=OuterRef("pk"),
                error_code=META_MARKETING_CAP_ERROR,
            )
        )
    return contacts.annotate(**annotations).order_by("pk").values(*_COLUMNS, *annotations)


def _skip_reason(row: dict, *, country: str | None, marketing: bool) -> str:
    if not row["wa_id"] and not row["user_id"]:
        return SkipReason.NO_ADDRESS
    if row["consent"] != ConsentAction.OPT_IN:
        return SkipReason.OPTED_OUT if row["consent"] == ConsentAction.OPT_OUT else SkipReason.NO_CONSENT
    if not marketing:
        return ""
    if country in NO_MARKETING_COUNTRIES:
        return SkipReason.US_MARKETING
    if row["refused"]:
        return SkipReason.RECENT_131049
    if row["capped"]:
        return SkipReason.FREQUENCY_CAP
    return ""


def _batch_rows(rows, *, after: int, batch_size: int) -> list[dict]:
    return list(rows.filter(pk__gt=after)[:batch_size])


def decided_batches(campaign: Campaign, *, after: int, batch_size: int, now: datetime) -> Iterator[tuple[int, list]]:
    """(highest contact id passed, the decisions of the batch's contacts in the segment), batch by batch."""
    rows = _annotated(campaign, now=now)
    marketing = _category(campaign) == MessageCategory.MARKETING
    segment = campaign.segment
    while batch := _batch_rows(rows, after=after, batch_size=batch_size):
        decided = []
        for row in batch:
            country = country_of(wa_id=row["wa_id"] or None, user_id=row["user_id"] or None)
            if not segment_matches_row(segment, tags=row["tags"], country=country):
                continue
            reason = _skip_reason(row, country=country, marketing=marketing)
            decided.append(
                Decided(
                    row["id"],
                    reason,
                    country,
                    {} if reason else params_for(campaign.params, row, campaign_id=campaign.pk),
                )
            )
        after = batch[-1]["id"]
        yield after, decided


def expansion_check(campaign: Campaign) -> None:
    """Raise ExpansionRefused if the campaign's audience cannot be expanded (checked before a start)."""
    if campaign.audience == Audience.CSV:
        if not campaign.audience_rows.exists():
            raise ExpansionRefused("Upload the audience's CSV first: this campaign has no recipients yet.")
        return
    segment_validate(campaign.segment)


@dataclass
class ExpansionResult:
    batches: int = 0  # batches this run committed
    done: bool = False


def campaign_expand(*, campaign: Campaign, batch_size: int = 5000, now: datetime | None = None) -> ExpansionResult:
    """Write one recipient row per contact of the audience, pending or skipped with its reason.

    Resumes after `expanded_through`; each batch's rows and the new `expanded_through` commit
    together. A finished campaign (or one cancelled or completed) is left as it is."""
    expansion_check(campaign)
    now = now or timezone.now()
    result = ExpansionResult()
    while True:
        with transaction.atomic():
            locked = Campaign.objects.select_for_update(of=("self",)).select_related("template").get(pk=campaign.pk)
            if locked.expansion_done or locked.status not in ACTIVE_STATUSES:
                result.done = locked.expansion_done
                break
            batch = next(decided_batches(locked, after=locked.expanded_through, batch_size=batch_size, now=now), None)
            if batch is None:
                locked.expansion_done = True
                locked.save(update_fields=["expansion_done", "updated_at"])
                result.done = True
                break
            through, decided = batch
            CampaignRecipient.objects.bulk_create(
                [
                    CampaignRecipient(
                        campaign=locked,
                        contact_id=one.contact_id,
                        status=RecipientStatus.SKIPPED if one.skip_reason else RecipientStatus.PENDING,
                        skip_reason=one.skip_reason,
                        params=one.params,
                    )
                    for one in decided
                ],
                ignore_conflicts=True,
            )
            locked.expanded_through = through
            locked.save(update_fields=["expanded_through", "updated_at"])
        result.batches += 1
    campaign.refresh_from_db(fields=["expanded_through", "expansion_done", "updated_at"])
    return result


@dataclass
class CampaignPreview:
    would_send: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> contacts
    by_country: Counter = field(default_factory=Counter)  # country (None: unknown) -> contacts to send to
    estimated_cost: Decimal = Decimal(0)
    currency: str = "USD"
    unpriced: int = 0  # contacts to send to whose country has no rate in force


def campaign_preview(*, campaign: Campaign, batch_size: int = 10000, now: datetime | None = None) -> CampaignPreview:
    """What expansion would write now, without writing: the count to send, skips by reason, the cost.

    One SELECT per batch of contacts and two for the prices, whatever the audience's size."""
    expansion_check(campaign)
    now = now or timezone.now()
    preview = CampaignPreview()
    for _, decided in decided_batches(campaign, after=0, batch_size=batch_size, now=now):
        for one in decided:
            if one.skip_reason:
                preview.skipped[one.skip_reason] += 1
            else:
                preview.would_send += 1
                preview.by_country[one.country] += 1
    countries = sorted(preview.by_country, key=lambda country: country or "")
    category = _category(campaign)
    costs = costs_for([Billable(country, category, now.date()) for country in countries], currency=preview.currency)
    for country, cost in zip(countries, costs, strict=True):
        if cost is None:
            preview.unpriced += preview.by_country[country]
        else:
            preview.estimated_cost += cost * preview.by_country[country]
    return preview
