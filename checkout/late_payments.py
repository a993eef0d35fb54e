"""Money that arrives after Waco closed the payment link: found from the row, kept or refunded once.

A closed link (expired, failed, or abandoned by the customer) may still be paid
at Stripe: the expire call was lost, or a delayed payment method settled late.
Every closed link with a session carries `next_check_at`; beat re-reads the
session then, backing off, until Stripe's answer is final (expired; complete and
paid; or its payment intent canceled or failed), for up to a week, then alerts.
No single task has to survive for the money to be found.

A late payment takes the order's units again at today's availability and the
order is paid; when they are gone it is refunded in full, once (checkout.late_refunds).
"""

import logging
from datetime import datetime, timedelta

from checkout import stripe_client
from checkout.models import LinkStatus, PaymentLink
from checkout.payments import session_paid_apply
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay

logger = logging.getLogger(__name__)

RECHECK_BASE = timedelta(minutes=1)
RECHECK_CAP = timedelta(hours=6)
RECHECK_FOR = timedelta(days=7)
INTENT_ENDED = ("canceled",)
INTENT_FAILED = ("requires_payment_method",)  # on a complete session: the payment was tried and failed


def session_is_final(session: stripe_client.CheckoutSession) -> bool:
    """Stripe will not change its mind: the session expired, was paid, or its payment ended unpaid."""
    return (
        session.status == "expired"
        or session.payment_status == "paid"
        or session.payment_intent_status in INTENT_ENDED
        or (session.status == "complete" and session.payment_intent_status in INTENT_FAILED)
    )


def closed_links_due(*, now: datetime, batch: int = 100):
    return (
        PaymentLink.objects.filter(status__in=[LinkStatus.EXPIRED, LinkStatus.FAILED], next_check_at__lte=now)
        .exclude(stripe_session_id=None)
        .order_by("next_check_at", "pk")[:batch]
    )


def closed_links_recheck(*, now: datetime, batch: int = 100) -> int:
    """Beat: re-read every closed link whose check is due. Returns how many were read."""
    read = 0
    for link in closed_links_due(now=now, batch=batch):
        try:
            closed_link_recheck(link=link, now=now)
            read += 1
        except stripe_client.StripeClientError:
            logger.warning("re-checking %s failed; it is tried again later", link, exc_info=True)
            _check_later(link, now=now)
    return read


def closed_link_recheck(*, link: PaymentLink, now: datetime) -> str:
    """Read the session (ending it at Stripe if still open) and apply a payment; schedule the next look."""
    session = stripe_client.checkout_session_retrieve(link.stripe_session_id, with_intent_status=True)
    if session.status == "open":  # Waco closed it; Stripe must agree (the expire task may have been lost)
        stripe_client.checkout_session_expire(link.stripe_session_id)
        session = stripe_client.checkout_session_retrieve(link.stripe_session_id, with_intent_status=True)
    if session.payment_status == "paid":
        return session_paid_apply(link_id=link.pk, session=session, now=now)
    if session_is_final(session):
        PaymentLink.objects.filter(pk=link.pk).update(next_check_at=None, checks=link.checks + 1)
        return "final"
    return _check_later(link, now=now)


def _check_later(link: PaymentLink, *, now: datetime) -> str:
    closed_at = link.settled_at or link.created_at
    if now - closed_at >= RECHECK_FOR:
        PaymentLink.objects.filter(pk=link.pk).update(next_check_at=None, checks=link.checks + 1)
        alert_raise(
            kind="payment_unsettled",
            subject=f"order {link.order.reference} attempt {link.attempt}",
            detail=f"Stripe session {link.stripe_session_id} is still not final a week after Waco closed its "
            "link (a delayed payment?). Look it up in Stripe's dashboard; Waco stopped checking.",
        )
        return "gave up"
    delay = backoff_delay(link.checks + 1, base=RECHECK_BASE, cap=RECHECK_CAP)
    PaymentLink.objects.filter(pk=link.pk).update(next_check_at=now + delay, checks=link.checks + 1)
    return "not final"
