from django.db import models

from waco.channels.models import BusinessAccount
from waco.crypto import EncryptedTextField


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created", "Order created"
    ORDER_PAID = "order.paid", "Order paid"
    ORDER_CANCELLED = "order.cancelled", "Order cancelled"
    ORDER_EXPIRED = "order.expired", "Order expired"
    ORDER_REFUNDED = "order.refunded", "Order refunded"
    ORDER_FULFILMENT_UPDATED = "order.fulfilment_updated", "Order fulfilment updated"
    STOCK_RESERVED = "stock.reserved", "Stock reserved"
    STOCK_RELEASED = "stock.released", "Stock released"
    CONSENT_CHANGED = "consent.changed", "Consent changed"
    MESSAGE_FAILED = "message.failed", "Message failed"
    THREAD_HANDOFF_REQUESTED = "thread.handoff_requested", "Thread handoff requested"


class WebhookEndpoint(models.Model):
    """A merchant's URL that receives the events it subscribed to, signed with its secret.

    The secret (`whsec_` + base64, as Standard Webhooks has it) is stored encrypted and shown
    once, when made. After a rotation the previous secret signs alongside the new one until
    `previous_secret_expires_at`, so the receiver can switch without losing an event.
    """

    url = models.URLField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types it receives (EventType values).")
    business_accounts = models.ManyToManyField(
        BusinessAccount, blank=True, help_text="Only these accounts' events; none chosen means every account's."
    )
    enabled = models.BooleanField(default=True)
    secret = EncryptedTextField(editable=False)
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the first failed attempt after a success; three days of it disable the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.url


class SubjectSequence(models.Model):
    """The last sequence number given to a subject's events; its row is the subject's lock."""

    subject = models.CharField(max_length=200, unique=True)
    last_sequence = models.PositiveBigIntegerField()

    def __str__(self):
        return f"{self.subject} at {self.last_sequence}"


class Event(models.Model):
    """One business event, written in the transaction of the change it reports.

    `body` holds the exact bytes every delivery posts and signs, frozen when written.
    """

    id = models.CharField(primary_key=True, max_length=40, editable=False)  # evt_ + a time-sortable ULID
    type = models.CharField(max_length=64, choices=EventType.choices)
    subject = models.CharField(max_length=200)
    sequence = models.PositiveBigIntegerField()
    data = models.JSONField()
    body = models.TextField()
    business_account = models.ForeignKey(BusinessAccount, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["subject", "sequence"], name="event_sequence_per_subject")]
        indexes = [models.Index(fields=["type", "id"]), models.Index(fields=["created_at"])]
        permissions = [("replay_event", "Can replay events to their endpoints")]

    def __str__(self):
        return f"{self.type} {self.subject} #{self.sequence}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # due at next_attempt_at: now, a retry's time or a worker's lease end
    DELIVERED = "delivered", "Delivered"  # the endpoint answered 2xx
    FAILED = "failed", "Failed"  # retried for three days, or its endpoint was disabled; replay from the admin


class Delivery(models.Model):
    """One event to one endpoint: the unit of work that workers claim, post and retry."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    replay = models.BooleanField(default=False, help_text="Asked for by staff after the first delivery.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="event_delivery_due")
        ]

    def __str__(self):
        return f"{self.event_id} to {self.endpoint_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One POST of a delivery; written when claimed, so a worker lost mid-post leaves a row without an outcome."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self):
        return f"attempt {self.pk} of delivery {self.delivery_id}"
