"""The sandbox's own state: what Meta would remember about a business and its customers.

Nothing here is shared with Waco's models; the sandbox is an outside service
that happens to live in the same database.
"""

from django.db import models
from django.db.models import Q

# What a system-user token is granted for WhatsApp, unless a test takes some away.
DEFAULT_TOKEN_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management"]


def default_token_scopes() -> list[str]:
    return list(DEFAULT_TOKEN_SCOPES)


class BusinessAccount(models.Model):
    """A WhatsApp Business Account as Meta knows it, with the token that acts for it.

    The token's state is what debug_token answers: an invalid or expired token is also
    refused with 190 wherever it is used.
    """

    waba_id = models.CharField(max_length=64, unique=True)
    access_token = models.TextField()
    catalog_id = models.CharField(max_length=64, blank=True)
    token_valid = models.BooleanField(default=True)
    token_expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never (expires_at 0).")
    token_scopes = models.JSONField(default=default_token_scopes)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.waba_id


class App(models.Model):
    """The Meta app the tokens were issued to, whose id and secret make the app access token
    debug_token asks for. Without a row it is the app Waco is configured with (WACO_META_APP_ID,
    the first WACO_META_APP_SECRET); a test writes one to play a secret reset at Meta."""

    app_id = models.CharField(max_length=64, unique=True)
    app_secret = models.CharField(max_length=255)
    name = models.CharField(max_length=200, default="Waco Sandbox")


class PhoneNumber(models.Model):
    """A business phone number registered on the sandbox's Cloud API."""

    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="numbers")
    phone_number_id = models.CharField(max_length=64, unique=True)
    display_phone_number = models.CharField(max_length=32)
    verified_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.display_phone_number} ({self.phone_number_id})"


class ServiceWindow(models.Model):
    """The last time a customer wrote to a number: free-form sends need it within 24 h.

    Also the sandbox's record of who the customer is. `wa_id` keys them: their
    phone's wa_id, or their business-scoped user id (BSUID) when they show Waco
    only a username; `user_id` is the BSUID of a customer who has both.
    """

    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="windows")
    wa_id = models.CharField(max_length=255)
    user_id = models.CharField(max_length=255, blank=True, db_index=True)
    username = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=200, blank=True)
    last_inbound_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["number", "wa_id"], name="sandbox_window_number_wa_id")]


class InboundMessage(models.Model):
    """A message a sandbox customer sent; a mark-read call must name one of these."""

    wamid = models.CharField(max_length=128, unique=True)
    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="inbound")
    wa_id = models.CharField(max_length=255, db_index=True, help_text="The customer's key, as on ServiceWindow.")
    type = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    typing_at = models.DateTimeField(null=True, blank=True)


class SentMessage(models.Model):
    """An accepted send: the request body exactly as received, and the wamid it got."""

    wamid = models.CharField(max_length=128, unique=True)
    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="sent")
    to = models.CharField(max_length=255, blank=True, db_index=True, help_text="`to` as sent (a phone in digits).")
    recipient = models.CharField(max_length=255, blank=True, db_index=True, help_text="`recipient` as sent (a BSUID).")
    # Whose phone shows it (their ServiceWindow key); empty when Meta dropped it (a BSUID in `to`).
    customer = models.CharField(max_length=255, blank=True, db_index=True)
    body = models.TextField(help_text="The raw request body, so the outbox shows it byte for byte.")
    # Meta's pricing category: service, utility, marketing or authentication.
    category = models.CharField(max_length=20)
    # The edge it was posted to: "messages", or "marketing_messages" (the Marketing Messages API).
    edge = models.CharField(max_length=20, default="messages")
    created_at = models.DateTimeField(db_index=True)


class TemplateStatus(models.TextChoices):
    PENDING = "PENDING"  # submitted, under review
    APPROVED = "APPROVED"  # may be sent
    REJECTED = "REJECTED"  # review refused it
    PAUSED = "PAUSED"  # quality pause: sends fail with 132015
    DISABLED = "DISABLED"  # sends fail with 132016


class Template(models.Model):
    """A message template on a business account, with its (simulated) review."""

    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="templates")
    template_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=20)
    components = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=TemplateStatus.choices)
    # Decided at submission, applied once review_due_at has passed.
    review_outcome = models.CharField(max_length=10, choices=TemplateStatus.choices)
    review_due_at = models.DateTimeField()
    rejected_reason = models.CharField(max_length=64, default="NONE")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name", "language"], name="sandbox_template_name_language")
        ]


class Media(models.Model):
    """Uploaded or customer-sent media, served back through short-lived URLs."""

    media_id = models.CharField(max_length=32, unique=True)
    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="media")
    mime_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    file_size = models.PositiveBigIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


class CatalogItem(models.Model):
    """A product item pushed through the catalog batch API."""

    catalog_id = models.CharField(max_length=64)
    retailer_id = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["catalog_id", "retailer_id"], name="sandbox_catalog_item_retailer_id")
        ]


class CatalogBatch(models.Model):
    """One items_batch call, so check_batch_request_status can answer for its handle."""

    handle = models.CharField(max_length=64, unique=True)
    catalog_id = models.CharField(max_length=64)
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)


class DeliveryKind(models.TextChoices):
    MESSAGE = "message"  # a customer's inbound message
    STATUS = "status"  # sent / delivered / read / failed for an accepted send
    TEMPLATE = "template"  # message_template_status_update
    STRIPE_EVENT = "stripe"  # a Stripe event, for Waco's Stripe webhook


class Delivery(models.Model):
    """A webhook the sandbox owes Waco: the outbox its worker drains, retrying like Meta."""

    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    body = models.TextField(help_text="The exact bytes that are signed and posted.")
    # What the delivery is about: a wamid for statuses and messages, a template id for reviews.
    ref = models.CharField(max_length=128, blank=True, db_index=True)
    status = models.CharField(max_length=10, blank=True, help_text="For status deliveries.")
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    # A worker owns a row until claimed_until; a crashed worker's claim simply runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(delivered_at__isnull=True, gave_up_at__isnull=True),
                name="sandbox_delivery_pending",
            )
        ]
        verbose_name_plural = "deliveries"


class SandboxConfig(models.Model):
    """The single row of fault-injection and behaviour settings (see waco.sandbox.config)."""

    values = models.JSONField(default=dict)
    # A fresh random value whenever the row is created: in-process state (rate buckets,
    # fault streams) keyed on it starts over when a test database is flushed.
    generation = models.CharField(max_length=32)
    revision = models.PositiveIntegerField(default=0)
    # How many of the next sends answer 130429; decremented atomically across processes.
    throttle_remaining = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


# --- Stripe: what Stripe would remember about Waco's account ----------------------------


class StripeSessionStatus(models.TextChoices):
    OPEN = "open"  # the customer may still pay
    COMPLETE = "complete"  # paid, or a delayed payment submitted
    EXPIRED = "expired"  # expires_at passed, or ended by the expire call


class StripePaymentStatus(models.TextChoices):
    UNPAID = "unpaid"  # nothing received (yet: a delayed method may still succeed)
    PAID = "paid"  # the money is there
    NO_PAYMENT_REQUIRED = "no_payment_required"  # a free order, completed


class StripePaymentIntentStatus(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # last attempt failed; another may follow
    PROCESSING = "processing"  # a delayed method, not settled yet
    SUCCEEDED = "succeeded"  # paid


class StripeChargeStatus(models.TextChoices):
    PENDING = "pending"  # a delayed method, not settled yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class StripePaymentIntent(models.Model):
    """A payment attempt of a Checkout Session, created when the customer first confirms."""

    intent_id = models.CharField(max_length=64, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=StripePaymentIntentStatus.choices)
    metadata = models.JSONField(default=dict)
    last_error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()


class StripeCharge(models.Model):
    """One try at moving money, with the payment method's details as Stripe reports them.

    The card details (brand, last4, expiry, fingerprint) are realistic on
    purpose: Waco must never copy them into its own tables or logs.
    """

    charge_id = models.CharField(max_length=64, unique=True)
    payment_intent = models.ForeignKey(StripePaymentIntent, on_delete=models.CASCADE, related_name="charges")
    amount = models.PositiveBigIntegerField()
    amount_refunded = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=StripeChargeStatus.choices)
    payment_method_id = models.CharField(max_length=64)
    # Stripe's payment_method_details: {"type": "card", "card": {"brand", "last4", ...}}.
    payment_method_details = models.JSONField()
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()


class StripeCheckoutSession(models.Model):
    """A hosted payment page for one order, open until paid, expired or ended."""

    session_id = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=10, choices=StripeSessionStatus.choices)
    payment_status = models.CharField(max_length=20, choices=StripePaymentStatus.choices)
    mode = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    amount_total = models.PositiveBigIntegerField()
    # [{"name", "unit_amount", "quantity", "amount_total"}], as parsed from price_data.
    line_items = models.JSONField()
    success_url = models.TextField()
    cancel_url = models.TextField(blank=True)
    client_reference_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict)
    payment_method_types = models.JSONField(default=list)
    payment_intent = models.OneToOneField(
        StripePaymentIntent, null=True, blank=True, on_delete=models.SET_NULL, related_name="session"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="open"), name="sandbox_stripe_session_open")]


class StripeRefund(models.Model):
    refund_id = models.CharField(max_length=64, unique=True)
    payment_intent = models.ForeignKey(StripePaymentIntent, on_delete=models.CASCADE, related_name="refunds")
    charge = models.ForeignKey(StripeCharge, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32, blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField()


class StripeEvent(models.Model):
    """An event as Stripe keeps it for 30 days; whether it reached Waco is read from its deliveries."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    # The event object exactly as listed and delivered (data.object is a snapshot).
    body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)


class StripeIdempotencyKey(models.Model):
    """The first response to a key, replayed to every retry with the same parameters for 24 h."""

    key = models.CharField(max_length=255, unique=True)
    # "POST /v1/refunds": a key reused on another endpoint is an error, as on Stripe.
    endpoint = models.CharField(max_length=255)
    params_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField()
