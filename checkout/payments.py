"""Payment links and what Stripe says about them.

Stripe is called outside any transaction (a slow Stripe never holds a row
lock); what it answered is applied in a short transaction with the order row
locked. Every decision about money comes from re-reading the session, never
from a webhook's body or the customer's return to the site.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.stock import NotEnoughStock
from checkout import late_refunds, signals, stripe_client
from checkout.models import LinkStatus, Order, OrderStatus, PaymentLink
from checkout.services import order_transition, reservations_consume, reservations_release
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay
from waco.dispatch import send_task_or_log

logger = logging.getLogger(__name__)

ISSUE_RETRY_BASE = timedelta(seconds=5)
ISSUE_RETRY_CAP = timedelta(minutes=2)
# A link whose session is still being created this long after it was made has lost its task.
ISSUE_STALE_AFTER = timedelta(minutes=2)


def link_url(link: PaymentLink) -> str:
    return f"{settings.WACO_PUBLIC_URL}{reverse('checkout:pay', args=[link.token])}"


def payment_link_issue(*, link_id: int, now: datetime | None = None) -> timedelta | None:
    """Create the link's Checkout Session (same idempotency key on every try).

    Returns a delay when Stripe should be asked again later, else None.
    """
    now = now or timezone.now()
    link = PaymentLink.objects.select_related("order").filter(pk=link_id, status=LinkStatus.ISSUING).first()
    if link is None:
        return None
    if now >= link.expires_at - timedelta(minutes=30):  # Stripe refuses a session shorter than 30 minutes
        _link_end(
            link_id=link.pk,
            status=LinkStatus.FAILED,
            reason="failed",
            error="Stripe could not be reached in time",
            now=now,
        )
        return None
    PaymentLink.objects.filter(pk=link.pk).update(issue_attempts=link.issue_attempts + 1)
    order = link.order
    try:
        session = stripe_client.checkout_session_create(
            order_ref=order.reference,
            line_items=[
                stripe_client.LineItem(name=line.name, unit_amount=line.unit_price_minor, quantity=line.quantity)
                for line in order.lines.all()
            ],
            currency=order.currency,
            expires_at=link.expires_at,
            idempotency_key=link.idempotency_key,
            success_url=f"{link_url(link)}done/",
            cancel_url=link_url(link),
            metadata={"payment_link": str(link.pk)},
        )
    except stripe_client.StripeTransientError as exc:
        PaymentLink.objects.filter(pk=link.pk).update(last_error=str(exc)[:2000])
        return backoff_delay(link.issue_attempts + 1, base=ISSUE_RETRY_BASE, cap=ISSUE_RETRY_CAP)
    except stripe_client.StripeClientError as exc:
        _link_end(link_id=link.pk, status=LinkStatus.FAILED, reason="failed", error=str(exc), now=now)
        if isinstance(exc, stripe_client.StripeAuthError):
            alert_raise(kind="stripe_auth", subject="Stripe refused Waco's secret key", detail=str(exc))
        return None
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update().select_related("order").get(pk=link.pk)
        if locked.status != LinkStatus.ISSUING:
            return None
        locked.stripe_session_id, locked.stripe_session_url = session.id, session.url or ""
        locked.status = LinkStatus.OPEN
        locked.save(update_fields=["stripe_session_id", "stripe_session_url", "status"])
        signals.payment_link_ready.send(sender=PaymentLink, order=locked.order, link=locked)
    return None


def payment_reconcile(*, link: PaymentLink, event_type: str = "", now: datetime | None = None) -> str:
    """Re-read the link's session from Stripe and apply it. Returns what was concluded."""
    now = now or timezone.now()
    if not link.stripe_session_id:
        return "no session"
    session = stripe_client.checkout_session_retrieve(link.stripe_session_id)
    if session.payment_status == "paid":
        return session_paid_apply(link_id=link.pk, session=session, now=now)
    if session.status == "expired":
        return _link_end(link_id=link.pk, status=LinkStatus.EXPIRED, reason="expired", now=now)
    if event_type == "checkout.session.async_payment_failed" and session.status == "complete":
        return _link_end(
            link_id=link.pk, status=LinkStatus.FAILED, reason="failed", error="the payment failed", now=now
        )
    return "unpaid"  # open, or complete and waiting for a delayed payment method


def session_paid_apply(*, link_id: int, session, now: datetime) -> str:
    """Stripe, re-read, says the link's session is paid: the order becomes paid, its units sold.

    A payment on a link Waco had closed takes its units again at today's availability; when
    they are gone the payment is refunded in full, once (checkout.late_payments)."""
    refund = None
    with transaction.atomic():
        link = PaymentLink.objects.select_for_update().select_related("order").get(pk=link_id)
        order = Order.objects.select_for_update().get(pk=link.order_id)
        if link.status != LinkStatus.PAID:
            link.status, link.settled_at, link.next_check_at = LinkStatus.PAID, now, None
            link.amount_paid_minor, link.stripe_payment_intent_id = (
                session.amount_total,
                session.payment_intent_id or "",
            )
            link.save(
                update_fields=["status", "settled_at", "next_check_at", "amount_paid_minor", "stripe_payment_intent_id"]
            )
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            alert_raise(
                kind="payment_after_cancel",
                subject=f"order {order.reference}",
                detail=f"Stripe took {session.amount_total} {session.currency} on {session.id} after the order "
                f"was {order.status}: refund it from the order's page.",
            )
            return "paid after cancel"
        if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
            return "already paid"
        if session.amount_total != order.total_minor or session.currency.upper() != order.currency:
            alert_raise(
                kind="payment_mismatch",
                subject=f"order {order.reference}",
                detail=f"Stripe took {session.amount_total} {session.currency}, the order is {order.total_minor} {order.currency}",
            )
        try:
            reservations_consume(order=order, now=now)
        except NotEnoughStock:
            reservations_release(order=order, now=now)
            refund = late_refunds.late_refund_record(order=order, link=link)
        else:
            Order.objects.filter(pk=order.pk).update(paid_at=now)  # first: the order.paid event says when
            order = order_transition(order=order, name="pay", cause="payment", detail=session.id, now=now)
            signals.order_paid.send(sender=Order, order=order)
    if refund is not None:  # Stripe is called after the commit, never under the order's lock
        return late_refunds.late_refund_send(refund_id=refund.pk, now=now)
    return "paid"


def _link_end(*, link_id: int, status: str, reason: str, now: datetime, error: str = "") -> str:
    """The attempt ended unpaid: release the stock, expire the order unless another attempt is open."""
    with transaction.atomic():
        link = PaymentLink.objects.select_for_update().select_related("order").get(pk=link_id)
        if link.status in (LinkStatus.PAID, LinkStatus.EXPIRED, LinkStatus.FAILED):
            return link.status
        link.status, link.settled_at, link.last_error = status, now, error[:2000]
        link.next_check_at = now if link.stripe_session_id else None  # until Stripe's answer is final
        link.save(update_fields=["status", "settled_at", "last_error", "next_check_at"])
        order = Order.objects.select_for_update().get(pk=link.order_id)
        newer_open = order.payment_links.filter(
            attempt__gt=link.attempt, status__in=[LinkStatus.ISSUING, LinkStatus.OPEN]
        )
        if order.status == OrderStatus.PENDING_PAYMENT and not newer_open.exists():
            reservations_release(order=order, now=now)
            order = order_transition(order=order, name="expire", cause="payment", detail=f"link {reason}", now=now)
            signals.payment_link_ended.send(sender=PaymentLink, order=order, link=link, reason=reason)
    return status


def order_abandon(*, order: Order, cause: str, now: datetime | None = None) -> bool:
    """The customer changed the cart after checkout: the unpaid order ends and its sessions close at Stripe.

    The order is expired, not cancelled, so a payment Stripe took in the meantime still counts.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            return False
        open_links = list(locked.payment_links.filter(status__in=[LinkStatus.ISSUING, LinkStatus.OPEN]))
        # Closed here, perhaps still payable at Stripe until the expire below lands: re-checked from the row.
        PaymentLink.objects.filter(pk__in=[link.pk for link in open_links]).update(
            status=LinkStatus.EXPIRED, settled_at=now, next_check_at=now
        )
        reservations_release(order=locked, now=now)
        order_transition(order=locked, name="expire", cause=cause, detail="the customer went back to the cart", now=now)
        from checkout.tasks import expire_session  # cycle: checkout.tasks imports this module

        for session_id in [link.stripe_session_id for link in open_links if link.stripe_session_id]:
            transaction.on_commit(lambda sid=session_id: send_task_or_log(expire_session, sid))
    return True
