"""Fulfilment events: what staff (admin actions) and the order system (REST API) say happened to an order.

One entry point, `fulfilment_apply`. Each event moves the order through
checkout.services.order_transition, which records the change and sends
order_status_changed; conversations listens and tells the customer. An event
that does not fit is refused with FulfilmentRefused and changes nothing.
Stripe is called outside any transaction (a slow Stripe never holds a lock),
as in checkout.payments.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_fsm import can_proceed

from catalog.money import amount_format
from checkout import stripe_client
from checkout.models import REFUND_COUNTED, LinkStatus, Order, OrderStatus, PaymentLink, Refund, RefundStatus
from checkout.payments import payment_reconcile
from checkout.services import TRANSITIONS, OrderTransitionRefused, order_transition, reservations_release
from waco.alerts.services import alert_raise

# Event name (what the admin and the API say) -> order transition.
EVENTS = {
    "packed": "pack",
    "shipped": "ship",
    "out_for_delivery": "out_for_delivery",
    "delivered": "deliver",
    "cancelled": "cancel",
    "refunded": "refund",
}
# Who may report events; recorded as the order change's cause.
REQUESTERS = ("staff", "api")
# A paid order that has not left the shop is refunded in full when cancelled: keeping money for
# goods we will not send is never what staff mean. Once shipped, only a refund fits.
CANCEL_REFUNDS_FROM = (OrderStatus.PAID, OrderStatus.PACKED)
_tracking_url_valid = URLValidator(schemes=["http", "https"])


class FulfilmentRefused(Exception):
    """The event does not fit the order (or its input is wrong); nothing changed. `message` is for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FulfilmentNotAllowed(FulfilmentRefused):
    """The order's status does not allow the event (now): the API answers 409."""


class FulfilmentRetryLater(FulfilmentRefused):
    """Stripe could not be reached; nothing was decided and a retry cannot move money twice."""


def fulfilment_apply(
    *,
    order: Order,
    event: str,
    by: str,
    by_name: str = "",
    actor=None,
    now: datetime | None = None,
    carrier: str = "",
    tracking_url: str = "",
    reason: str = "",
    amount_minor: int | None = None,
) -> Order:
    """Apply one fulfilment event to the order and return it as it is now, or raise FulfilmentRefused.

    `by` is "staff" or "api"; `by_name` (a username, an API key's name) goes into the history's detail,
    `actor` (the staff user, for staff) into its actor.
    shipped needs `carrier` and an http(s) `tracking_url`; cancelled needs a `reason`;
    refunded takes `amount_minor` (default: all that is left of the payment).
    """
    if event not in EVENTS:
        raise FulfilmentRefused(f"unknown fulfilment event {event!r}")
    if by not in REQUESTERS:
        raise FulfilmentRefused(f"unknown requester {by!r}")
    now = now or timezone.now()
    order = Order.objects.get(pk=order.pk)  # decide on the stored status, not on the caller's copy
    _check_fits(order, event)
    ask = _Ask(by=by, by_name=by_name, actor=actor, now=now)
    if event == "shipped":
        return _ship(order, ask, carrier=carrier.strip(), tracking_url=tracking_url.strip())
    if event == "cancelled":
        return _cancel(order, ask, reason=reason.strip())
    if event == "refunded":
        return _refund(order, ask, amount_minor=amount_minor, reason=reason.strip())
    return _move(order, EVENTS[event], ask)


@dataclass(frozen=True, kw_only=True)
class _Ask:
    """Who asked, and when: what each recorded change carries."""

    by: str
    by_name: str
    actor: object  # a user, or None
    now: datetime

    def detail(self, text: str = "") -> str:
        return " ".join(part for part in (f"by {self.by_name}" if self.by_name else "", text) if part)


def _check_fits(order: Order, event: str) -> None:
    transition = TRANSITIONS[EVENTS[event]].__get__(order, Order)  # the model's transition, bound to this order
    if not can_proceed(transition):
        raise FulfilmentNotAllowed(
            f"Order {order.reference} is {order.get_status_display().lower()}: it cannot be {event.replace('_', ' ')}."
        )


def _move(order: Order, name: str, ask: _Ask, detail: str = "") -> Order:
    """One transition under the order's lock; a status that moved meanwhile is refused, not forced."""
    try:
        return order_transition(
            order=order, name=name, cause=ask.by, detail=ask.detail(detail), actor=ask.actor, now=ask.now
        )
    except OrderTransitionRefused as exc:  # the status moved meanwhile
        raise FulfilmentNotAllowed(str(exc)) from exc


def _ship(order: Order, ask: _Ask, *, carrier: str, tracking_url: str) -> Order:
    if not carrier:
        raise FulfilmentRefused("Shipped needs the carrier's name.")
    if len(carrier) > Order._meta.get_field("carrier").max_length:
        raise FulfilmentRefused("The carrier's name is too long.")
    try:
        _tracking_url_valid(tracking_url)
    except ValidationError:
        raise FulfilmentRefused("Shipped needs a tracking URL starting with http:// or https://.") from None
    if len(tracking_url) > Order._meta.get_field("tracking_url").max_length:
        raise FulfilmentRefused("The tracking URL is too long.")
    with transaction.atomic():  # the fields and the transition together: a refused ship stores no carrier
        # Written before the transition, so the customer's message (sent from its signal) can quote them.
        Order.objects.filter(pk=order.pk).update(carrier=carrier, tracking_url=tracking_url)
        return _move(order, "ship", ask, detail=f"{carrier} {tracking_url}")


# --- cancel ---------------------------------------------------------------------------


def _cancel(order: Order, ask: _Ask, *, reason: str) -> Order:
    if not reason:
        raise FulfilmentRefused("Cancelling needs a reason (the customer is told it).")
    reason = reason[: Order._meta.get_field("cancel_reason").max_length]
    if order.status in CANCEL_REFUNDS_FROM:
        return _refund(order, ask, amount_minor=None, reason=reason, cancel=True)
    return _cancel_unpaid(order, ask, reason=reason)


def _cancel_unpaid(order: Order, ask: _Ask, *, reason: str) -> Order:
    """Close the order's checkout pages at Stripe first, so no payment can land on a cancelled order."""
    for link in order.payment_links.filter(status=LinkStatus.OPEN).exclude(stripe_session_id=None):
        try:
            session = stripe_client.checkout_session_expire(link.stripe_session_id)
        except stripe_client.StripeClientError as exc:
            raise FulfilmentRetryLater(
                f"Stripe could not close the payment page ({exc}); nothing changed: try again."
            ) from exc
        if session.payment_status == "paid":
            payment_reconcile(link=link, now=ask.now)
            raise FulfilmentNotAllowed(
                f"The customer has just paid order {order.reference}: cancel it again to refund it."
            )
    with transaction.atomic():
        # Links before the order, in the order checkout.payments locks them.
        links = list(
            PaymentLink.objects.select_for_update()
            .filter(order=order, status__in=[LinkStatus.ISSUING, LinkStatus.OPEN])
            .order_by("pk")
        )
        PaymentLink.objects.filter(pk__in=[link.pk for link in links]).update(
            status=LinkStatus.EXPIRED, settled_at=ask.now, next_check_at=ask.now
        )  # a delayed payment may still land
        Order.objects.filter(pk=order.pk).update(cancel_reason=reason)
        updated = _move(order, "cancel", ask, detail=reason)
        reservations_release(order=updated, now=ask.now)
    return updated


# --- refund ---------------------------------------------------------------------------


def _refund(order: Order, ask: _Ask, *, amount_minor: int | None, reason: str, cancel: bool = False) -> Order:
    """Ask Stripe for the money back (a row first, the call outside the transaction), then move the order."""
    link = (
        order.payment_links.filter(status=LinkStatus.PAID)
        .exclude(stripe_payment_intent_id="")
        .order_by("-settled_at", "-pk")
        .first()
    )
    if link is None or not link.amount_paid_minor:
        raise FulfilmentNotAllowed(f"Order {order.reference} has no Stripe payment to refund.")
    refund = _refund_request(order, link, amount_minor=amount_minor, reason=reason, ask=ask)
    try:
        answer = stripe_client.refund_create(
            payment_intent_id=link.stripe_payment_intent_id,
            amount=refund.amount_minor,
            idempotency_key=refund.idempotency_key,
        )
    except stripe_client.StripeTransientError as exc:
        # The refund may have happened: the row stays "requested" and a retry reuses its key.
        Refund.objects.filter(pk=refund.pk).update(last_error=str(exc)[:2000])
        raise FulfilmentRetryLater(f"Stripe could not be reached ({exc}). Try again: it cannot refund twice.") from exc
    except stripe_client.StripeClientError as exc:
        Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.FAILED, last_error=str(exc)[:2000])
        if isinstance(exc, stripe_client.StripeAuthError):
            alert_raise(kind="stripe_auth", subject="Stripe refused Waco's secret key", detail=str(exc))
        raise FulfilmentRefused(f"Stripe refused the refund: {exc}") from exc
    return _refund_apply(order, refund, answer, ask=ask, reason=reason, cancel=cancel)


def _refund_request(order: Order, link: PaymentLink, *, amount_minor: int | None, reason: str, ask: _Ask) -> Refund:
    """The refund row, written under the order's lock: one unresolved request at a time per order."""
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)
        refunds = Refund.objects.filter(order=order)
        counted = refunds.filter(status__in=REFUND_COUNTED).aggregate(total=Sum("amount_minor"))["total"] or 0
        left = link.amount_paid_minor - counted
        amount = left if amount_minor is None else amount_minor
        unresolved = refunds.filter(status=RefundStatus.REQUESTED).first()
        if unresolved is not None:
            if unresolved.amount_minor == amount:
                return unresolved  # a repeat of the same request: the same key reaches the same Stripe refund
            raise FulfilmentNotAllowed(
                f"A refund of {amount_format(unresolved.amount_minor, unresolved.currency)} is "
                "still unresolved: repeat it with that amount."
            )
        if left <= 0:
            raise FulfilmentNotAllowed("Nothing is left to refund.")
        if amount <= 0:
            raise FulfilmentRefused("The refund amount must be more than zero.")
        if amount > left:
            raise FulfilmentRefused(f"At most {amount_format(left, order.currency)} can be refunded.")
        tries = refunds.filter(status=RefundStatus.FAILED).count() + 1
        return Refund.objects.create(
            order=order,
            payment_link=link,
            amount_minor=amount,
            currency=order.currency,
            reason=reason,
            idempotency_key=f"waco-refund-{order.reference}-{amount}-try{tries}",
            requested_by=ask.by_name or ask.by,
        )


def _refund_apply(
    order: Order, refund: Refund, answer: stripe_client.Refund, *, ask: _Ask, reason: str, cancel: bool
) -> Order:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        Refund.objects.filter(pk=refund.pk).update(status=answer.status, stripe_refund_id=answer.id, last_error="")
        money_back = answer.status in REFUND_COUNTED
        if money_back and cancel and can_proceed(locked.cancel):
            Order.objects.filter(pk=locked.pk).update(cancel_reason=reason)
            locked = _move(locked, "cancel", ask, detail=reason)
        if money_back and can_proceed(locked.refund):  # not when a repeated request already moved it
            locked = _move(
                locked, "refund", ask, detail=f"{amount_format(refund.amount_minor, refund.currency)} {answer.id}"
            )
    if not money_back:
        raise FulfilmentRefused(f"Stripe answered the refund with status {answer.status!r}; the order is unchanged.")
    return locked
