from django.db import models
from django_fsm import FSMField, transition

from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact
from waco.transitions import StateChange


class ThreadState(models.TextChoices):
    BROWSING = "browsing", "Browsing"  # menus, categories, product cards
    BUILDING_CART = "building_cart", "Building a cart"  # at least one line in the cart
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"  # a payment link is out
    AWAITING_FULFILLMENT = "awaiting_fulfillment", "Awaiting fulfilment"  # paid; delivery updates follow
    HANDOFF = "handoff", "With a person"  # the bot is silent until staff hand back


# States the bot may leave for a person; a thread already with one stays there.
BOT_STATES = [s for s in ThreadState.values if s != ThreadState.HANDOFF]
# States that only make sense while the service window is open.
CART_STATES = [ThreadState.BUILDING_CART, ThreadState.AWAITING_PAYMENT]


class Thread(models.Model):
    """One customer with one business number: the conversation as a state machine.

    Transitions happen only through conversations.services.thread_transition, which
    locks the row and applies the transition with waco.transitions.transition_apply.
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="threads")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="threads")
    state = FSMField(max_length=32, choices=ThreadState.choices, default=ThreadState.BROWSING)
    state_before_handoff = models.CharField(max_length=32, blank=True)
    consent_asked_at = models.DateTimeField(null=True, blank=True, help_text="When the offers question went out.")
    # The staff inbox (conversations.inbox): who has the thread, whether they are done, what they have read.
    assigned_to = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_threads",
        help_text="The staff member who has the thread.",
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff last handed it back; a new handoff reopens it."
    )
    staff_read_at = models.DateTimeField(null=True, blank=True, help_text="When staff last opened the thread.")
    # Kept by conversations.inbox.message_noted wherever a ThreadMessage is written, so the inbox reads one row.
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_direction = models.CharField(max_length=3, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="The customer's oldest message nobody has answered yet."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], name="one_thread_per_contact_and_number")
        ]
        indexes = [
            models.Index(fields=["state"], name="thread_state"),
            models.Index(fields=["waiting_since", "last_message_at"], name="thread_inbox_order"),
        ]

    def __str__(self):
        return f"{self.contact} with {self.phone_number} ({self.state})"

    @transition(field=state, source=ThreadState.BROWSING, target=ThreadState.BUILDING_CART)
    def start_cart(self):
        """The first line went into the cart."""

    @transition(field=state, source=ThreadState.BUILDING_CART, target=ThreadState.BROWSING)
    def empty_cart(self):
        """The last line left the cart."""

    @transition(field=state, source=ThreadState.BUILDING_CART, target=ThreadState.AWAITING_PAYMENT)
    def request_payment(self):
        """The customer asked to check out and a payment link went out."""

    @transition(field=state, source=ThreadState.AWAITING_PAYMENT, target=ThreadState.BUILDING_CART)
    def return_to_cart(self):
        """The customer went back to the cart, or the link expired or failed."""

    # Also from the cart states: a payment can be confirmed after the window (and the thread's state) moved on.
    @transition(field=state, source=[ThreadState.BROWSING, *CART_STATES], target=ThreadState.AWAITING_FULFILLMENT)
    def mark_paid(self):
        """Stripe, re-read, says the order is paid."""

    @transition(field=state, source=ThreadState.AWAITING_FULFILLMENT, target=ThreadState.BROWSING)
    def close_order(self):
        """Delivered (or cancelled): the customer may shop again."""

    @transition(field=state, source=CART_STATES, target=ThreadState.BROWSING)
    def expire_window(self):
        """The service window closed: the cart is kept for recovery, the state is not."""

    @transition(field=state, source=BOT_STATES, target=ThreadState.HANDOFF)
    def hand_to_person(self):
        """The customer asked for an agent, or staff took the thread."""
        self.state_before_handoff = self.state

    @transition(field=state, source=ThreadState.HANDOFF, target=ThreadState.BROWSING)
    def hand_back(self):
        """Staff are done: the bot answers again, from the menu."""
        self.state_before_handoff = ""


class Inbox(Thread):
    """The staff inbox in the admin (conversations.admin.InboxAdmin): threads as a work queue, no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "inbox"
        verbose_name_plural = "inbox"


class TransitionCause(models.TextChoices):
    CUSTOMER = "customer", "The customer's message"
    STAFF = "staff", "Staff in the admin"
    PAYMENT = "payment", "A payment event"
    FULFILMENT = "fulfilment", "A fulfilment event"
    WINDOW = "window", "The service window closed"


class ThreadTransition(StateChange):
    """Each state change of a thread: from, to, why, when."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="transitions")
    cause = models.CharField(max_length=16, choices=TransitionCause.choices)


class Cart(models.Model):
    """The thread's cart. Lines hold no prices: totals are always read live from the catalog."""

    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="cart")
    seen_total_minor = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The total the customer was last shown; checkout compares it with the live one.",
    )
    recovery_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the one recovery message for this cart went out (conversations.recovery).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"cart of {self.thread}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="cart_lines")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["cart", "variant"], name="one_line_per_variant")]

    def __str__(self):
        return f"{self.quantity} x {self.variant}"


class Direction(models.TextChoices):
    INBOUND = "in", "From the customer"
    OUTBOUND = "out", "To the customer"


class ThreadMessage(models.Model):
    """One message of the thread, either way, as staff read it in the admin.

    Inbound rows keep Meta's wamid and timestamp; outbound rows point at the
    outbox row that carries the delivery status.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    wamid = models.CharField(max_length=255, null=True, blank=True, unique=True, help_text="Meta's id (inbound).")
    type = models.CharField(max_length=32, help_text="text, interactive, order, image, template, ...")
    text = models.TextField(blank=True, help_text="What a person reads: the body, the tapped title, the caption.")
    payload = models.JSONField(default=dict, blank=True, help_text="The message object as Meta sent it, or ours.")
    sent_at = models.DateTimeField(help_text="Meta's timestamp for inbound messages; enqueue time for ours.")
    recorded_at = models.DateTimeField(auto_now_add=True)
    outbound = models.OneToOneField(
        "outbound.OutboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_message"
    )
    staff_user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, help_text="Who wrote it, for staff replies."
    )

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["thread", "direction", "sent_at"])]

    def __str__(self):
        arrow = "<-" if self.direction == Direction.INBOUND else "->"
        return f"{arrow} {self.type}: {self.text[:60]}"


class MediaStatus(models.TextChoices):
    PENDING = "pending", "Waiting for download"
    STORED = "stored", "Stored"
    FAILED = "failed", "Failed"


class InboundMedia(models.Model):
    """A customer's image, audio, video, document or sticker, downloaded outside the thread lock."""

    message = models.OneToOneField(ThreadMessage, on_delete=models.CASCADE, related_name="media")
    media_id = models.CharField(max_length=128, help_text="Meta's media id: lives 7 days; its URL only minutes.")
    declared_mime_type = models.CharField(max_length=128, blank=True)
    declared_sha256 = models.CharField(max_length=128, blank=True, help_text="The hash Meta sent, when it did.")
    status = models.CharField(max_length=16, choices=MediaStatus.choices, default=MediaStatus.PENDING)
    file = models.FileField(upload_to="inbound/%Y/%m/", blank=True)
    mime_type = models.CharField(max_length=128, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Hex SHA-256 of the stored bytes.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.media_id} ({self.status})"


class Intent(models.TextChoices):
    MENU = "menu", "Show the menu"
    CART = "cart", "Show the cart"
    CHECKOUT = "checkout", "Check out"
    AGENT = "agent", "Talk to a person"
    STOP = "stop", "Stop marketing messages"


class Keyword(models.Model):
    """A word a customer may type for an intent; matched whole, case- and accent-insensitively."""

    word = models.CharField(max_length=64, unique=True, help_text="Stored normalised (see conversations.intents).")
    intent = models.CharField(max_length=16, choices=Intent.choices)
    language = models.CharField(max_length=8, blank=True, help_text="ISO code, for staff: en, ar, hi, sw, pt ...")

    class Meta:
        ordering = ["intent", "language", "word"]

    def __str__(self):
        return f"{self.word} -> {self.intent}"


class ThreadNote(models.Model):
    """Staff's internal note on a thread: shown in the transcript, never sent to the customer."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"note on {self.thread_id}: {self.text[:60]}"


class QuickReply(models.Model):
    """A saved answer of a shop (business account) that staff pick on the conversation page.

    The text may hold {name} (the customer as the shop knows them) and {last_order} (the reference of
    their latest order with the shop); conversations.staff.quick_replies_for fills them.
    """

    business_account = models.ForeignKey(
        "channels.BusinessAccount", on_delete=models.CASCADE, related_name="quick_replies"
    )
    title = models.CharField(max_length=100, help_text="What staff pick it by.")
    text = models.TextField(help_text="The reply; {name} and {last_order} are filled for the customer.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["business_account", "title"]
        verbose_name_plural = "quick replies"
        constraints = [
            models.UniqueConstraint(fields=["business_account", "title"], name="one_quick_reply_title_per_account")
        ]

    def __str__(self):
        return self.title
