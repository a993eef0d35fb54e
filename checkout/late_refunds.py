"""The refund of a payment that arrived after its link closed, when the order's units were gone.

Refunded in full, once: one Refund row and one Stripe idempotency key per order and attempt,
written in the payment's transaction before any call, so a crash leaves a row that beat sends.
The order moves from unpaid to refunded, which conversations tells the customer (purpose
payment_refunded).
"""

from datetime import datetime

from django.db import transaction
from django_fsm import can_proceed

from catalog.money import amount_format
from checkout import stripe_client
from checkout.models import REFUND_COUNTED, Order, OrderStatus, PaymentLink, Refund, RefundStatus
from checkout.services import order_transition
from waco.alerts.services import alert_raise

LATE_REFUND_BY = "waco"  # Refund.requested_by of the refunds this module makes


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
