"""Campaigns: one approved template sent to an audience, with a row per recipient and its outcome.

Campaigns sit above conversations and checkout: they read contacts, orders and outbound
messages; the apps below will inform them (a reply, an order) through signals, never by import.
A campaign's status changes only through campaigns.services.campaign_transition, which locks the
row and applies one @transition with waco.transitions.transition_apply (history in CampaignChange).
"""

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from waco.channels.models import BusinessAccount, PhoneNumber
from waco.contacts.models import Contact
from waco.transitions import StateChange


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # being prepared: audience and parameters may still change
    SCHEDULED = "scheduled", "Scheduled"  # waits for its start time
    RUNNING = "running", "Running"  # expanding and sending
    PAUSED = "paused", "Paused"  # staff or a safety trigger stopped it; `paused_reason` says why
    COMPLETED = "completed", "Completed"  # every recipient was tried (or the end time passed)
    CANCELLED = "cancelled", "Cancelled"  # stopped for good; pending recipients are never sent


S = CampaignStatus
# A campaign in these may still send: expansion and the sender work only on them.
ACTIVE_STATUSES = (S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED)


class Audience(models.TextChoices):
    SEGMENT = "segment", "A segment of contacts"
    CSV = "csv", "An uploaded CSV"  # not expanded yet: CSV rows come with the upload (issue 19)


class Campaign(models.Model):
    """A broadcast of one approved template from one number to a segment (or, later, a CSV).

    `params` says where each template parameter's value comes from, per parameter key:
    {"source": "attribute", "key": ...}, {"source": "field", "key": "name"}, {"source": "csv",
    "column": ...} or {"source": "constant", "value": ...}. `segment` holds the audience's
    filters (campaigns.segments documents them).
    """

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.PROTECT, related_name="campaigns")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    template = models.ForeignKey("templates_lib.Template", on_delete=models.PROTECT, related_name="campaigns")
    # Meta recategorises promotional utility templates as marketing: a utility campaign must be a notice.
    transactional = models.BooleanField(
        default=False, help_text="A transactional notice (required for a utility template), not a promotion."
    )
    params = models.JSONField(default=dict, blank=True, help_text="Per template parameter: where its value comes from.")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.SEGMENT)
    segment = models.JSONField(default=dict, blank=True, help_text="The contacts' filters (campaigns.segments).")
    status = FSMField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="No send after it; blank: until done.")
    # In the recipient's local time (waco.contacts.timezones): no send from start up to end.
    quiet_start = models.TimeField(default=time(21))
    quiet_end = models.TimeField(default=time(9))
    frequency_cap_hours = models.PositiveIntegerField(
        default=24, help_text="At most one marketing message per customer in this many hours, across campaigns."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Expansion walks contacts by id: it resumes after the highest id a committed batch passed.
    expanded_through = models.BigIntegerField(default=0, help_text="The highest contact id expansion has passed.")
    expansion_done = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    # The safety triggers (campaigns.safety) judge what happened since staff last resumed it, so a
    # resume on purpose is not undone at once by the failures, opt-outs or rating that paused it.
    safety_from = models.DateTimeField(
        null=True, blank=True, help_text="Failures count from here: when staff last resumed it (blank: from the start)."
    )
    quality_accepted = models.CharField(
        max_length=10,
        blank=True,
        help_text="The number's quality rating when staff last resumed it: only worse pauses.",
    )
    opt_outs = models.PositiveIntegerField(
        default=0, help_text="Recipients who opted out after receiving it, since it started or staff last resumed it."
    )
    attribution_days = models.PositiveSmallIntegerField(
        default=7, help_text="A reply or a paid order this many days after the send is counted to the campaign."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "starts_at"], name="campaign_status_starts")]

    def __str__(self):
        return f"{self.name} ({self.status})"

    @transition(field=status, source=S.DRAFT, target=S.SCHEDULED)
    def schedule(self):
        """Staff set it to start at `starts_at`."""

    @transition(field=status, source=[S.DRAFT, S.SCHEDULED], target=S.RUNNING)
    def start(self):
        """Staff started it, or its start time came."""

    @transition(field=status, source=S.RUNNING, target=S.PAUSED)
    def pause(self, reason: str = ""):
        """Staff paused it, or a safety trigger did (quality, template, failures, opt-outs)."""
        self.paused_reason = reason

    @transition(field=status, source=S.PAUSED, target=S.RUNNING)
    def resume(self):
        """Staff only: a campaign never resumes itself. The safety triggers start again from now."""
        self.paused_reason = ""
        self.safety_from = timezone.now()
        self.quality_accepted = self.phone_number.quality_rating
        self.opt_outs = 0

    @transition(field=status, source=S.RUNNING, target=S.COMPLETED)
    def complete(self):
        """Every recipient was tried, or the end time passed."""

    @transition(field=status, source=list(ACTIVE_STATUSES), target=S.CANCELLED)
    def cancel(self):
        """Stopped for good."""


class CampaignCause(models.TextChoices):
    STAFF = "staff", "Staff in the admin"
    API = "api", "The REST API"  # the merchant's systems, with a campaigns:write key
    SCHEDULE = "schedule", "Its schedule"  # the start or end time came
    SAFETY = "safety", "A safety trigger"  # quality, template, failure or opt-out thresholds
    SYSTEM = "system", "The system"  # e.g. every recipient tried


class CampaignChange(StateChange):
    """Each status change of a campaign (creating it is the first, from blank)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="changes")
    cause = models.CharField(max_length=16, choices=CampaignCause.choices)


class RecipientStatus(models.TextChoices):
    # Outcomes rise in this order (failed counts only before delivered).
    PENDING = "pending", "Pending"  # waiting for its send
    SKIPPED = "skipped", "Skipped"  # never sent; `skip_reason` says why
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    REPLIED = "replied", "Replied"
    ORDERED = "ordered", "Ordered"  # an order was attributed to it
    FAILED = "failed", "Failed"  # with Meta's error code and title


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", "No consent for the template's category"
    OPTED_OUT = "opted_out", "Opted out of the template's category"
    US_MARKETING = "us_marketing", "A US number (Meta sends no marketing templates to them)"
    FREQUENCY_CAP = "frequency_cap", "Got a marketing message within the frequency cap"
    RECENT_131049 = "recent_131049", "Meta refused marketing to them (131049) in the last 24 h"
    NO_ADDRESS = "no_address", "Neither a phone number nor a business-scoped user id"
    ENDED = "ended", "The campaign ended before it was sent"


class CampaignRecipient(models.Model):
    """One contact of a campaign's audience: its parameters, its message and what became of it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="campaign_recipients")
    status = models.CharField(max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.PENDING)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="The template's parameter values for them.")
    message = models.ForeignKey(
        "outbound.OutboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_recipients",
    )
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    order = models.ForeignKey(
        "checkout.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipients"
    )
    revenue_minor = models.PositiveBigIntegerField(null=True, blank=True)
    # After Meta's per-user marketing cap (131049) it may wait to be sent again once, not before then.
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="After a 131049: its one retry goes no earlier than this."
    )
    opted_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer opted out after receiving it (counted once for safety)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of the current status.")
    replied_at = models.DateTimeField(null=True, blank=True, help_text="The attributed reply's time.")
    ordered_at = models.DateTimeField(null=True, blank=True, help_text="When the attributed order was paid.")

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="one_recipient_per_contact")]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_recipient_status"),
            # The failure window (campaigns.safety): a campaign's last N messages, newest first.
            models.Index(fields=["campaign", "message"], name="campaign_recipient_message"),
        ]

    def __str__(self):
        reason = f": {self.skip_reason}" if self.skip_reason else ""
        return f"{self.contact_id} in {self.campaign_id} ({self.status}{reason})"


class CampaignTotals(models.Model):
    """A campaign's outcomes counted in one GROUP BY (campaigns.outcomes.campaign_totals_refresh), so a
    page shows them without reading its recipients. `synced_through` is where the last sync of its
    recipients from their outbound messages started (campaigns.outcomes.recipients_sync)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="totals")
    counts = models.JSONField(default=dict, blank=True, help_text="Recipients per status.")
    skipped = models.JSONField(default=dict, blank=True, help_text="Skipped recipients per reason.")
    cost = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    revenue_minor = models.PositiveBigIntegerField(default=0)
    synced_through = models.DateTimeField(null=True, blank=True)
    # A reply or an order changed a recipient: beat counts again while changed_at >= counted_at,
    # even long after the campaign ended.
    changed_at = models.DateTimeField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True, help_text="When the counting started.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "campaign totals"

    def __str__(self):
        return f"totals of {self.campaign_id}"


class AudienceRow(models.Model):
    """One row of a CSV audience (campaigns.audience_csv): the contact it names and its columns, which
    `{"source": "csv", "column": ...}` parameters read. Expansion turns these rows into recipients."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="audience_rows")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField(help_text="The row's line in the file (the header is line 1).")
    columns = models.JSONField(default=dict, blank=True, help_text="The row's values by column name.")

    class Meta:
        ordering = ["campaign", "line"]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="one_audience_row_per_contact")]

    def __str__(self):
        return f"line {self.line} of campaign {self.campaign_id}"
