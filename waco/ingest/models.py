from django.db import models


class DeliverySource(models.TextChoices):
    META = "meta", "Meta (WhatsApp)"
    STRIPE = "stripe", "Stripe"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # stored; not every event applied yet
    DONE = "done", "Done"  # every event applied, skipped as a duplicate, or recorded unrouted
    FAILED = "failed", "Failed"  # gave up after MAX_ATTEMPTS; re-run from the admin


class Delivery(models.Model):
    """One webhook request as received: the durable inbox.

    Written in a single INSERT before the webhook answers 200. The row is the
    unit of work (waco.ingest.inbox): a pending row whose `next_attempt_at` has
    come is drained by a worker or, failing that, by beat's job, so a lost
    broker message, a down broker or a killed worker loses nothing.
    """

    source = models.CharField(max_length=16, choices=DeliverySource.choices)
    body = models.TextField(help_text="The raw request body, exactly as received.")
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        help_text="When it may next be claimed: now when stored, the end of a worker's lease, or a backoff."
    )
    last_error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-received_at"]
        indexes = [
            # Beat's query: pending rows that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_pending_due",
            )
        ]

    def __str__(self):
        return f"{self.get_source_display()} delivery {self.pk} ({self.status})"


class EventOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"  # every registered handler ran
    UNKNOWN_NUMBER = "unknown_number", "Unrouted: phone number missing or unknown to Waco"
    NO_HANDLER = "no_handler", "Unrouted: no handler for this kind"


UNROUTED_OUTCOMES = (EventOutcome.UNKNOWN_NUMBER, EventOutcome.NO_HANDLER)


class InboxEvent(models.Model):
    """One event of a delivery, keyed for deduplication.

    The row is inserted in the same transaction as the handlers' side effects,
    so an event is applied exactly once however often Meta redelivers it, and
    a handler failure rolls the key back with the rest, leaving it to retry.
    """

    source = models.CharField(max_length=16, choices=DeliverySource.choices)
    dedupe_key = models.CharField(max_length=255)
    kind = models.CharField(max_length=64)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    phone_number_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=32, choices=EventOutcome.choices)
    # Kept for unrouted events, so staff can see what arrived and why it went nowhere.
    raw = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "dedupe_key"], name="inbox_event_applied_once")]
        indexes = [models.Index(fields=["outcome", "-created_at"])]

    def __str__(self):
        return f"{self.kind} {self.dedupe_key} ({self.outcome})"
