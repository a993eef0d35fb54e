"""Cart recovery: a customer who left a cart and went quiet gets one marketing nudge, if they opted in.

Beat calls `cart_recovery_send` with `now` computed in Python. "Quiet since" is
the customer's last message to the number (every cart change comes from one).
The message is marketing: it needs a marketing opt-in even inside the window
(outbound's policy checks it again), goes free-form while the window is open,
as the `cart_recovery` template after, and on the marketing queue either way.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery

from checkout.models import Order, OrderStatus
from conversations.carts import cart_summary
from conversations.models import Cart, CartLine, Thread, ThreadState
from conversations.replies import Reply, buttons_reply
from conversations.services import CART_SUBJECT, thread_reply
from outbound.models import MessageCategory
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ServiceWindow

logger = logging.getLogger(__name__)
# Threads where a nudge about the cart would be wrong: a person is talking, or a payment step is live.
NOT_IN = (ThreadState.HANDOFF, ThreadState.AWAITING_PAYMENT, ThreadState.AWAITING_FULFILLMENT)
# Carts left longer ago than this are stale: no nudge, even on the first run after an upgrade.
RECOVERY_MAX_AGE = timedelta(days=7)
ITEMS_NAMED = 3


def recovery_delay() -> timedelta:
    return timedelta(hours=settings.WACO_CART_RECOVERY_HOURS)


def carts_to_recover(*, now: datetime, batch: int = 100):
    """Carts with lines whose customer went quiet between the delay and the maximum age, never nudged
    since they last wrote, with a marketing opt-in as their newest marketing consent and no unpaid order."""
    window = ServiceWindow.objects.filter(
        contact=OuterRef("thread__contact"), phone_number=OuterRef("thread__phone_number")
    )
    marketing = (
        ConsentEntry.objects.filter(contact=OuterRef("thread__contact"), category=ConsentCategory.MARKETING)
        .order_by("-recorded_at", "-id")
        .values("action")[:1]
    )
    pending = Order.objects.filter(
        contact=OuterRef("thread__contact"),
        phone_number=OuterRef("thread__phone_number"),
        status=OrderStatus.PENDING_PAYMENT,
    )
    return (
        Cart.objects.annotate(quiet_since=Subquery(window.values("last_inbound_at")[:1]), marketing=Subquery(marketing))
        .filter(
            Exists(CartLine.objects.filter(cart=OuterRef("pk"))),
            marketing=ConsentAction.OPT_IN,
            quiet_since__lte=now - recovery_delay(),
            quiet_since__gt=now - RECOVERY_MAX_AGE,
        )
        # A customer who wrote again after the nudge left the cart anew: one more is allowed.
        .filter(Q(recovery_sent_at__isnull=True) | Q(recovery_sent_at__lt=F("quiet_since")))
        .exclude(thread__state__in=NOT_IN)
        .exclude(Exists(pending))
        .order_by("quiet_since", "pk")[:batch]
    )


def cart_recovery_send(*, now: datetime, batch: int = 100) -> int:
    """Beat: nudge each cart due for recovery once. Returns how many messages were queued."""
    sent = 0
    for cart in carts_to_recover(now=now, batch=batch):
        try:
            sent += _recover(cart, now=now)
        except OperationalError:  # a lock conflict with the customer's own message: the next run looks again
            logger.warning("cart recovery for cart %s deferred", cart.pk, exc_info=True)
    return sent


@transaction.atomic
def _recover(cart: Cart, *, now: datetime) -> int:
    # The thread first, as the dialogue locks it: a customer writing right now is served, not nudged.
    thread = (
        Thread.objects.select_for_update(skip_locked=True)
        .select_related("contact", "phone_number")
        .filter(pk=cart.thread_id)
        .exclude(state__in=NOT_IN)
        .first()
    )
    if thread is None:
        return 0
    summary = cart_summary(thread=thread)
    if not summary.lines:
        return 0
    claimed = (
        Cart.objects.filter(pk=cart.pk)
        .filter(Q(recovery_sent_at__isnull=True) | Q(recovery_sent_at__lt=cart.quiet_since))
        .update(recovery_sent_at=now)
    )
    if not claimed:  # another run got here first
        return 0
    reply = cart_recovery_reply(customer=_customer(thread), items=_items_text(summary))
    thread_reply(
        thread=thread,
        content=reply.content,
        text=reply.text,
        category=MessageCategory.MARKETING,
        purpose="cart_recovery",
        dedupe_key=f"cart_recovery:{cart.pk}:{int(cart.quiet_since.timestamp())}",
        subject_type=CART_SUBJECT,
        subject_id=cart.pk,
        template_params={"customer": _customer(thread), "items": _items_text(summary)},
        now=now,
    )
    return 1


def _customer(thread: Thread) -> str:
    return thread.contact.profile_name or "there"


def _items_text(summary) -> str:
    named = [f"{line.quantity} × {line.variant.display_name}" for line in summary.lines[:ITEMS_NAMED]]
    more = len(summary.lines) - ITEMS_NAMED
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def cart_recovery_reply(*, customer: str, items: str) -> Reply:
    return buttons_reply(
        f"Hello {customer}, you left {items} in your cart. Tap below to pick up where you left off.",
        [("cart", "View my cart"), ("checkout", "Check out")],
    )
