"""Orders, their lines and history, payment links and refunds (stock reservations are catalog's).

Money is integer minor units with an ISO currency, copied onto the order at
checkout: later catalog changes never alter an order.
"""

from django.db import models
from django_fsm import FSMField, transition

from waco.channels.models import BusinessAccount, PhoneNumber
from waco.contacts.models import Contact
from waco.transitions import StateChange


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Waiting for payment"
    PAID = "paid", "Paid"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired unpaid"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus


class Order(models.Model):
    """What the customer agreed to buy, at the prices shown at checkout.

    Status changes only through checkout.services.order_transition, which locks
    the row and applies the transition with waco.transitions.transition_apply.
    """

    reference = models.CharField(max_length=16, unique=True, help_text="What the customer and staff quote.")
    business_account = models.ForeignKey(BusinessAccount, on_delete=models.PROTECT, related_name="orders")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="orders")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="orders")
    status = FSMField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    total_minor = models.PositiveBigIntegerField()
    paid_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=1000, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    external_reference = models.CharField(
        max_length=100, blank=True, help_text="The merchant's order system's own id for it, set through the API."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["updated_at", "id"], name="order_updated_at"),  # the API's sync order
        ]
        constraints = [
            # Also the index behind the API's external_reference filter (it leads the constraint).
            models.UniqueConstraint(
                fields=["external_reference", "business_account"],
                condition=~models.Q(external_reference=""),
                name="one_external_reference_per_account",
            )
        ]
        permissions = [("refund_order", "Can refund an order (or cancel a paid one)")]

    def __str__(self):
        return f"{self.reference} ({self.status})"

    # Late money wins: a payment Stripe confirms after we expired the order still makes it paid.
    @transition(field=status, source=[S.PENDING_PAYMENT, S.EXPIRED], target=S.PAID)
    def pay(self):
        """Stripe, re-read, says the session is paid."""

    @transition(field=status, source=S.PENDING_PAYMENT, target=S.EXPIRED)
    def expire(self):
        """The payment link ran out (or failed) unpaid; the stock went back."""

    @transition(field=status, source=S.PAID, target=S.PACKED)
    def pack(self):
        """Staff packed it."""

    @transition(field=status, source=S.PACKED, target=S.SHIPPED)
    def ship(self):
        """Handed to the carrier, with a tracking address."""

    @transition(field=status, source=S.SHIPPED, target=S.OUT_FOR_DELIVERY)
    def out_for_delivery(self):
        """The carrier's last leg."""

    @transition(field=status, source=[S.SHIPPED, S.OUT_FOR_DELIVERY], target=S.DELIVERED)
    def deliver(self):
        """The customer has it."""

    @transition(field=status, source=[S.PENDING_PAYMENT, S.PAID, S.PACKED], target=S.CANCELLED)
    def cancel(self):
        """Staff or the customer cancelled before it shipped."""

    # From expired too: a payment that arrived after its link closed, when the stock was gone.
    @transition(
        field=status,
        source=[S.PAID, S.PACKED, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED, S.CANCELLED, S.EXPIRED],
        target=S.REFUNDED,
    )
    def refund(self):
        """The money went back through Stripe's refund API."""


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", null=True, on_delete=models.SET_NULL, related_name="order_lines")
    sku = models.CharField("SKU", max_length=100)
    name = models.CharField(max_length=400)
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.PositiveBigIntegerField()
    line_total_minor = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} x {self.name}"


class OrderCause(models.TextChoices):
    CUSTOMER = "customer", "The customer"  # placed, or went back to the cart
    PAYMENT = "payment", "A payment event"  # Stripe, re-read, or the link ran out
    STAFF = "staff", "Staff in the admin"
    API = "api", "The order system, through the API"


class OrderChange(StateChange):
    """Each status change of an order: from, to, why, when (placing it is the first, from blank)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="changes")
    cause = models.CharField(max_length=16, choices=OrderCause.choices)


class LinkStatus(models.TextChoices):
    ISSUING = "issuing", "Creating the Stripe session"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


class PaymentLink(models.Model):
    """One attempt at paying an order: our /pay/<token>/ address and its Stripe Checkout Session.

    The expiry is computed once, when the attempt is made, and used both for
    the stock reservation and for the session's expires_at, so a retried
    session create asks Stripe for exactly the same thing.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payment_links")
    attempt = models.PositiveIntegerField()
    token = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.ISSUING)
    expires_at = models.DateTimeField()
    stripe_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_session_url = models.URLField(max_length=2000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    amount_paid_minor = models.PositiveBigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    issue_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the one payment reminder went out.")
    # A link Waco closed may still be paid at Stripe (a lost expire, a delayed payment method):
    # beat re-reads its session at this time, backing off, until Stripe's answer is final.
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0, help_text="Re-reads of the session since the link closed.")

    class Meta:
        ordering = ["order", "attempt"]
        constraints = [models.UniqueConstraint(fields=["order", "attempt"], name="one_link_per_attempt")]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["next_check_at"])]

    def __str__(self):
        return f"{self.order.reference} attempt {self.attempt} ({self.status})"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Asked of Stripe"  # the row is written before the call: a crash leaves a trace
    PENDING = "pending", "Pending at Stripe"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # Stripe refused it, or could not be reached; `last_error` says which
    CANCELED = "canceled", "Canceled"
    REQUIRES_ACTION = "requires_action", "Needs action at Stripe"


# Statuses in which the money is on its way back (or back): they count against what can still be refunded.
REFUND_COUNTED = [RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.REQUIRES_ACTION]


class Refund(models.Model):
    """Money sent back through Stripe's refund API for an order: one row per request, with its outcome.

    The idempotency key names the order and the amount, so a repeated request
    (a double click, a retry after a timeout) reaches the same Stripe refund.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment_link = models.ForeignKey(PaymentLink, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    reason = models.CharField(max_length=255, blank=True)
    requested_by = models.CharField(max_length=150, blank=True, help_text="staff username, or api")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"refund of {self.amount_minor} {self.currency} for {self.order.reference} ({self.status})"
