"""Payment reminders: an open payment link left unused gets one reminder before it expires.

Beat calls `payment_reminders_send` with `now` computed in Python, so tests run
it at chosen times. Each link is claimed under its lock (reminded_at set) and
its reminder queued in the same transaction: two beat runs never both send, and
a failure leaves the link to the next run. Checkout never imports conversations:
it sends payment_reminder_due and conversations speaks.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef

from checkout import signals
from checkout.models import LinkStatus, Order, OrderStatus, PaymentLink
from waco.contacts.models import ConsentAction, ConsentEntry

logger = logging.getLogger(__name__)
# A reminder this close to the link's end would only announce its expiry; skip it.
REMINDER_MIN_TIME_LEFT = timedelta(minutes=5)


def reminder_delay() -> timedelta:
    return timedelta(minutes=settings.WACO_PAYMENT_REMINDER_MINUTES)


def payment_reminders_due(*, now: datetime, batch: int = 100):
    """Open links of unpaid orders, older than the delay, never reminded, with time left,
    whose customer has not opted out of anything since ordering."""
    opted_out = ConsentEntry.objects.filter(
        contact=OuterRef("order__contact"), action=ConsentAction.OPT_OUT, recorded_at__gte=OuterRef("order__created_at")
    )
    return (
        PaymentLink.objects.filter(
            status=LinkStatus.OPEN,
            reminded_at__isnull=True,
            order__status=OrderStatus.PENDING_PAYMENT,
            created_at__lte=now - reminder_delay(),
            expires_at__gt=now + REMINDER_MIN_TIME_LEFT,
        )
        .exclude(Exists(opted_out))
        .order_by("created_at", "pk")[:batch]
    )


def payment_reminders_send(*, now: datetime, batch: int = 100) -> int:
    """Beat: remind each due link once. Returns how many reminders were queued."""
    sent = 0
    for link in payment_reminders_due(now=now, batch=batch):
        try:
            sent += _remind(link, now=now)
        except OperationalError:  # a lock conflict with the customer's own message: the next run tries again
            logger.warning("payment reminder for %s deferred", link, exc_info=True)
    return sent


@transaction.atomic
def _remind(link: PaymentLink, *, now: datetime) -> int:
    # Link, then order: the order checkout.payments locks them in, so a payment committing
    # meanwhile is seen here (and one starting now waits for the reminder). A concurrent run skips.
    locked = (
        PaymentLink.objects.select_for_update(skip_locked=True)
        .filter(pk=link.pk, status=LinkStatus.OPEN, reminded_at__isnull=True)
        .first()
    )
    if locked is None:
        return 0
    order = (
        Order.objects.select_for_update(of=("self",)).select_related("contact", "phone_number").get(pk=locked.order_id)
    )
    if order.status != OrderStatus.PENDING_PAYMENT:
        return 0
    locked.reminded_at = now
    locked.save(update_fields=["reminded_at"])
    signals.payment_reminder_due.send(sender=PaymentLink, order=order, link=locked)
    return 1
