"""Money that arrives after Waco closed the payment link: found from the row, kept or refunded once.

A closed link (expired, failed, or abandoned by the customer) may still be paid
at Stripe: the expire call was lost, or a delayed payment method settled late.
Every closed link with a session carries `next_check_at`; beat re-reads the
session then, backing off, until Stripe's answer is final (expired; complete and
paid; or its payment intent canceled or failed), for up to a week, then alerts.
No single task has to survive for the money to be found.

A late payment takes the order's units again at today's availability and the
order is paid; when they are gone it is refunded in full, once (one Refund row
and one Stripe idempotency key per order and attempt), and the order moves from
unpaid to refunded, which conversations tells the customer (purpose payment_refunded).
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django_fsm import can_proceed

from catalog.money import amount_format
from checkout import stripe_client
from checkout.models import REFUND_COUNTED, LinkStatus, Order, OrderStatus, PaymentLink, Refund, RefundStatus
from checkout.services import order_transition
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay

logger = logging.getLogger(__name__)

RECHECK_BASE = timedelta(minutes=1)
RECHECK_CAP = timedelta(hours=6)
RECHECK_FOR = timedelta(days=7)
LATE_REFUND_BY = "waco"  # Refund.requested_by of the refunds this module makes
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
    from checkout.payments import session_paid_apply  # cycle: checkout.payments imports this module

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


def late_refund_record(*, order: Order, link: PaymentLink) -> Refund:
    """The refund of a late payment whose units are gone, written in the payment's transaction (before
    any call to Stripe), so a crash leaves a row that beat sends. One per order and attempt."""
    refund, _ = Refund.objects.get_or_create(
        idempotency_key=f"waco-late-payment-refund-{order.reference}-attempt-{link.attempt}",
        defaults={
            "order": order,
            "payment_link": link,
            "amount_minor": link.amount_paid_minor or 0,
            "currency": order.currency,
            "requested_by": LATE_REFUND_BY,
            "reason": "paid after the payment link closed, when the stock was gone",
        },
    )
    return refund


def late_refund_send(*, refund_id: int, now: datetime) -> str:
    """Ask Stripe for the refund (same key on every try); once Stripe has it, the order is refunded
    and the customer told. A transient failure leaves the row requested, for beat to send again."""
    refund = Refund.objects.select_related("order", "payment_link").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund.status
    try:
        answer = stripe_client.refund_create(
            payment_intent_id=refund.payment_link.stripe_payment_intent_id,
            amount=refund.amount_minor,
            idempotency_key=refund.idempotency_key,
        )
    except stripe_client.StripeTransientError as exc:
        Refund.objects.filter(pk=refund.pk).update(last_error=str(exc)[:2000])
        return "refund pending"
    except stripe_client.StripeClientError as exc:
        Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.FAILED, last_error=str(exc)[:2000])
        _alert_not_refunded(refund, why=str(exc))
        return "refund failed"
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.REQUESTED:  # a concurrent send applied the same answer
            return refund.status
        refund.status, refund.stripe_refund_id, refund.last_error = answer.status, answer.id, ""
        refund.save(update_fields=["status", "stripe_refund_id", "last_error", "updated_at"])
        if answer.status not in REFUND_COUNTED:
            _alert_not_refunded(refund, why=f"Stripe answered with status {answer.status!r}")
            return "refund failed"
        if order.status == OrderStatus.PENDING_PAYMENT:  # paid after its hold ran out, before the link was closed
            order = order_transition(
                order=order, name="expire", cause="payment", detail="its stock was sold meanwhile", now=now
            )
        if can_proceed(order.refund):
            detail = f"late payment refunded: {amount_format(refund.amount_minor, refund.currency)} {answer.id}"
            # order_status_changed (unpaid -> refunded) tells the customer, through purpose payment_refunded.
            order_transition(order=order, name="refund", cause="payment", detail=detail, now=now)
    return "refunded"


def late_refunds_retry(*, now: datetime, batch: int = 100) -> int:
    """Beat: send the late-payment refunds still waiting for Stripe's answer. Returns how many were tried."""
    waiting = Refund.objects.filter(status=RefundStatus.REQUESTED, requested_by=LATE_REFUND_BY).order_by("pk")[:batch]
    for refund in waiting:
        late_refund_send(refund_id=refund.pk, now=now)
    return len(waiting)


def _alert_not_refunded(refund: Refund, *, why: str) -> None:
    alert_raise(
        kind="late_payment_not_refunded",
        subject=f"order {refund.order.reference}",
        detail=f"A payment of {amount_format(refund.amount_minor, refund.currency)} arrived after the link "
        f"closed and the stock was gone; Stripe did not refund it ({why}). Refund it by hand.",
    )
