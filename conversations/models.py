from django.db import models
from django_fsm import FSMField, transition

from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact


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

    Transitions happen only through conversations.services.thread_transition,
    which locks the row and records each change.
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="threads")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="threads")
    state = FSMField(max_length=32, choices=ThreadState.choices, default=ThreadState.BROWSING)
    state_before_handoff = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], name="one_thread_per_contact_and_number")
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

    @transition(field=state, source=ThreadState.AWAITING_PAYMENT, target=ThreadState.AWAITING_FULFILLMENT)
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


class TransitionCause(models.TextChoices):
    CUSTOMER = "customer", "The customer's message"
    STAFF = "staff", "Staff in the admin"
    PAYMENT = "payment", "A payment event"
    FULFILMENT = "fulfilment", "A fulfilment event"
    WINDOW = "window", "The service window closed"


class ThreadTransition(models.Model):
    """Each state change of a thread: from, to, why, when."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="transitions")
    name = models.CharField(max_length=64)
    source = models.CharField(max_length=32)
    target = models.CharField(max_length=32)
    cause = models.CharField(max_length=16, choices=TransitionCause.choices)
    detail = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.source} -> {self.target} ({self.name}, {self.cause})"


class Cart(models.Model):
    """The thread's cart. Lines hold no prices: totals are always read live from the catalog."""

    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="cart")
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
