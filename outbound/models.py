from django.db import models
from django.db.models import Q

from waco.channels.models import PhoneNumber
from waco.cloud_api.client import EDGE_MARKETING_MESSAGES, EDGE_MESSAGES
from waco.contacts.models import Contact


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # in the outbox, waiting for a drain (or its next attempt)
    SENDING = "sending", "Sending"  # committed before the HTTP call: a crash here is never resent blindly
    ACCEPTED = "accepted", "Accepted"  # Meta answered with a wamid
    SENT = "sent", "Sent"  # status webhook: left Meta
    DELIVERED = "delivered", "Delivered"  # on the customer's phone
    READ = "read", "Read"  # opened (or `played` for voice)
    PLAYED = "played", "Played"
    FAILED = "failed", "Failed"  # with the error, and whether a person must act
    UNKNOWN = "unknown", "Unknown"  # the request may have left; only a status webhook can tell


# How far a message has got; a status never moves a message backwards.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.UNKNOWN: 2,
    MessageStatus.ACCEPTED: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 5,
    MessageStatus.READ: 6,
    MessageStatus.PLAYED: 6,
}
# A `failed` status webhook counts only before the message reached the phone.
FAILABLE_STATUSES = (
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.UNKNOWN,
    MessageStatus.ACCEPTED,
    MessageStatus.SENT,
)


class MessageCategory(models.TextChoices):
    SERVICE = "service", "Service (a reply in the window)"
    UTILITY = "utility", "Utility (order updates)"
    MARKETING = "marketing", "Marketing"
    AUTHENTICATION = "authentication", "Authentication"


class GraphEdge(models.TextChoices):
    """Where a message's last send went: Cloud API's /messages or the Marketing Messages API's edge."""

    MESSAGES = EDGE_MESSAGES, "/messages"
    MARKETING_MESSAGES = EDGE_MARKETING_MESSAGES, "/marketing_messages (Marketing Messages API)"


class OutboundMedia(models.Model):
    """A file staff attach to a message: kept here, uploaded to Meta by the worker at send time.

    Meta's media id lives 30 days, so a re-send after that uploads again (outbound.attachments).
    """

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="outbound_media")
    file = models.FileField(upload_to="outbound/%Y/%m/")
    filename = models.CharField(max_length=240, help_text="As staff uploaded it; a document's name on the phone.")
    mime_type = models.CharField(max_length=128)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    media_id = models.CharField(max_length=128, blank=True, help_text="Meta's id after the upload.")
    uploaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.filename} ({self.mime_type})"


class OutboundMessage(models.Model):
    """One message to a customer: the outbox row, and its delivery record.

    Its id goes to Meta as `biz_opaque_callback_data`, so a status webhook
    finds the row even when the send's HTTP response was lost.
    """

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="outbound_messages")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="outbound_messages")
    # Decided at enqueue: the phone's wa_id when known, else the BSUID (waco.cloud_api.recipients).
    recipient = models.CharField(max_length=255, help_text="wa_id, or the business-scoped user id")
    category = models.CharField(max_length=16, choices=MessageCategory.choices)
    purpose = models.CharField(max_length=64, help_text="Why we send it; names the template chain outside the window.")
    # The Graph message object without envelope fields: {"type": ..., <type>: {...}, "context"?}.
    content = models.JSONField()
    template_name = models.CharField(max_length=512, blank=True)
    # An image or document whose id the worker fills into content[type]["id"] at send time.
    media = models.ForeignKey(OutboundMedia, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    template_version = models.PositiveIntegerField(null=True, blank=True, help_text="The version's number when sent.")
    # Kept so a fallback (131047, a paused template) can render the next template of the chain.
    template_params = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="Set by callers that must enqueue a message once (a receipt per order).",
    )
    # What the message is about, named by the caller's app ("order" and its reference, "thread" and
    # its id): other apps find their messages by these, never by parsing dedupe keys.
    subject_type = models.CharField(max_length=32, blank=True, help_text='e.g. "order", "thread", "cart"')
    subject_id = models.CharField(max_length=64, blank=True, help_text="The subject's reference or id.")
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    wamid = models.CharField(max_length=255, null=True, blank=True, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    rate_limit_retries = models.PositiveIntegerField(
        default=0, help_text="Retries after Meta's rate limits (not attempts: the message did nothing wrong)."
    )
    next_attempt_at = models.DateTimeField(db_index=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=32, blank=True)
    error_detail = models.TextField(blank=True)
    needs_person = models.BooleanField(default=False, help_text="Failed in a way only a person can fix.")
    graph_edge = models.CharField(
        max_length=20, choices=GraphEdge.choices, blank=True, help_text="Where its last send went; empty before one."
    )
    pricing_model = models.CharField(max_length=32, blank=True)
    pricing_type = models.CharField(max_length=64, blank=True)
    pricing_category = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of the current status.")
    # Each step's time (queued is created_at). A later step implies the earlier ones: a `read` that
    # beats its `delivered` fills both, and the real `delivered`, when it comes, keeps the earlier time.
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["phone_number", "next_attempt_at"],
                condition=Q(status="queued"),
                name="outbound_queued_due",
            ),
            models.Index(fields=["status", "updated_at"], name="outbound_status_updated"),
            models.Index(fields=["subject_type", "subject_id"], name="outbound_subject"),
        ]

    def __str__(self):
        return f"#{self.pk} to {self.recipient} ({self.purpose}, {self.status})"


class SendOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    ERROR = "error", "Refused by Meta"
    UNKNOWN = "unknown", "Outcome unknown (may have left)"
    NOT_SENT = "not_sent", "Not sent (connection failed before the request left)"


class SendAttempt(models.Model):
    """One HTTP call to the Graph API for a message, with what came of it."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="attempts_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=SendOutcome.choices)
    wamid = models.CharField(max_length=255, blank=True, db_index=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self):
        return f"{self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class ParkedStatus(models.Model):
    """A status webhook for a wamid we have not recorded yet (our send's response
    is still in flight); applied when the wamid appears."""

    wamid = models.CharField(max_length=255, db_index=True)
    status = models.CharField(max_length=16)
    raw = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.status} for {self.wamid}"


class PricingCategory(models.TextChoices):
    """What Meta bills a delivered message as: the `pricing.category` of its status webhooks."""

    MARKETING = "marketing", "Marketing"
    UTILITY = "utility", "Utility"
    AUTHENTICATION = "authentication", "Authentication"
    # Authentication to a country's numbers by an eligible business based in another country.
    AUTHENTICATION_INTERNATIONAL = "authentication-international", "Authentication (international)"
    SERVICE = "service", "Service"


class CountryPricingMarket(models.Model):
    """The market on Meta's rate card a country's numbers are billed under, from a date.

    Meta groups many countries into a "Rest of ..." market and moves them out over time (Zimbabwe
    joined Rest of Africa on 2025-10-01, Qatar left Rest of Middle East on 2026-07-01), so a country
    has one row per change; a country with no row is billed as "Other". Countries are ISO 3166 codes:
    Meta maps by calling code and network prefix (+1 809 is the Dominican Republic), which the
    phone number library resolves to the country.
    """

    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. AE.")
    market = models.CharField(max_length=64, help_text='As named on Meta\'s rate card, e.g. "Rest of Middle East".')
    effective_from = models.DateField()
    source = models.CharField(max_length=500, blank=True, help_text="Where the mapping was read, and when.")

    class Meta:
        ordering = ["country_code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["country_code", "effective_from"], name="one_market_per_country_and_date"),
        ]

    def __str__(self):
        return f"{self.country_code}: {self.market} from {self.effective_from}"


class PriceRate(models.Model):
    """What Meta charges per delivered message of a category in a market, from a date and a monthly volume.

    A rate applies from `effective_from` until a later row of the same market, category and currency,
    and from `tier_from` messages already counted this month (0 for the list rate). A change restates
    every tier of its market and category: the rows of the latest date in force are the whole tier
    table. Meta counts utility and authentication per business portfolio and market; service messages
    per business phone number (its monthly free tier).
    """

    market = models.CharField(max_length=64, help_text='As named on Meta\'s rate card, e.g. "United Arab Emirates".')
    category = models.CharField(max_length=32, choices=PricingCategory.choices)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217; Meta's cards come in USD and others.")
    effective_from = models.DateField()
    tier_from = models.PositiveBigIntegerField(
        default=0, help_text="Messages already counted this month from which the rate applies; 0 for the list rate."
    )
    rate = models.DecimalField(max_digits=14, decimal_places=6, help_text="Per delivered message.")
    source = models.CharField(max_length=500, blank=True, help_text="Where the figure was read, and when.")

    class Meta:
        ordering = ["market", "category", "currency", "-effective_from", "tier_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "category", "currency", "effective_from", "tier_from"],
                name="one_rate_per_market_category_date_tier",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="price_rate_not_negative"),
        ]

    def __str__(self):
        tier = f" from {self.tier_from:,} a month" if self.tier_from else ""
        return f"{self.market} {self.category}{tier}: {self.rate} {self.currency} from {self.effective_from}"
