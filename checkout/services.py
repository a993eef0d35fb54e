"""Orders: placed from a cart at prices read again, stock reserved, status changed with a record.

Callable without HTTP or Celery. Conversations calls `order_place`; checkout
never imports conversations: it tells the thread through the signals in
checkout.signals.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from catalog import stock
from catalog.models import Variant
from checkout import signals
from checkout.models import LinkStatus, Order, OrderCause, OrderLine, OrderStatus, PaymentLink
from checkout.order_events import TRANSITION_EVENTS, order_event_record
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource, Contact
from waco.dispatch import send_task_or_log
from waco.events.models import EventType
from waco.transitions import transition_apply

# Easy to read aloud and type: no 0/O or 1/I.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

TRANSITIONS = {
    "pay": Order.pay,
    "expire": Order.expire,
    "pack": Order.pack,
    "ship": Order.ship,
    "out_for_delivery": Order.out_for_delivery,
    "deliver": Order.deliver,
    "cancel": Order.cancel,
    "refund": Order.refund,
}


class CheckoutRefusal(Exception):
    """The order cannot be placed as asked; `reason` is what the customer is told."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PricesChanged(CheckoutRefusal):
    """Live prices differ from what the customer last saw: they must confirm the new total."""

    def __init__(self, reason: str, *, total_minor: int, currency: str):
        super().__init__(reason)
        self.total_minor, self.currency = total_minor, currency


class OrderTransitionRefused(Exception):
    """The status change does not fit the order's status; nothing changed."""


@dataclass(frozen=True)
class WantedLine:
    variant: Variant
    quantity: int


def link_lifetime() -> timedelta:
    """How long a payment link, and the stock it holds, lasts: never under Stripe's 30 minutes plus margin."""
    return timedelta(minutes=max(35, settings.WACO_PAYMENT_LINK_MINUTES))


def stock_holder(order: Order) -> str:
    """The name an order's stock reservations carry in catalog."""
    return f"order:{order.reference}"


def order_units(order: Order) -> dict[int, int]:
    """Variant id -> units, over the order's lines whose variant still exists."""
    units: dict[int, int] = {}
    for line in order.lines.exclude(variant=None):
        units[line.variant_id] = units.get(line.variant_id, 0) + line.quantity
    return units


@transaction.atomic
def order_place(
    *,
    contact: Contact,
    phone_number: PhoneNumber,
    lines: list[WantedLine],
    seen_total_minor: int | None,
    now: datetime | None = None,
) -> tuple[Order, PaymentLink]:
    """Read price and stock again, reserve the stock and open the first payment attempt.

    Variants are locked in id order, so two customers racing for the last unit
    are served one after the other and the second is refused.
    Raises PricesChanged when the live total differs from `seen_total_minor`,
    CheckoutRefusal when something cannot be sold now.
    """
    now = now or timezone.now()
    wanted = {line.variant.pk: line.quantity for line in lines if line.quantity > 0}
    if not wanted:
        raise CheckoutRefusal("your cart is empty")
    variants = list(Variant.objects.select_for_update().filter(pk__in=wanted).select_related("product").order_by("pk"))
    available = stock.availability_for(variant_ids=wanted, now=now)
    short = [
        f"{v.display_name} ({available.get(v.pk, 0)} left)"
        for v in variants
        if not (v.active and v.product.active) or available.get(v.pk, 0) < wanted[v.pk]
    ]
    if short or len(variants) != len(wanted):
        raise CheckoutRefusal("not enough stock for " + ", ".join(short or ["an item that is no longer sold"]))
    currencies = {v.currency for v in variants}
    if len(currencies) != 1:
        raise CheckoutRefusal("an order is paid in one currency")
    total = sum(v.price_minor * wanted[v.pk] for v in variants)
    currency = currencies.pop()
    if seen_total_minor is not None and total != seen_total_minor:
        raise PricesChanged("prices changed since you last saw your cart", total_minor=total, currency=currency)
    order = Order.objects.create(
        reference=_new_reference(),
        business_account=phone_number.business_account,
        phone_number=phone_number,
        contact=contact,
        currency=currency,
        total_minor=total,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            variant=v,
            sku=v.sku,
            name=v.display_name,
            quantity=wanted[v.pk],
            unit_price_minor=v.price_minor,
            line_total_minor=v.price_minor * wanted[v.pk],
        )
        for v in variants
    )
    order.changes.create(transition="place", to_state=order.status, cause=OrderCause.CUSTOMER, created_at=now)
    contacts.consent_record(
        contact=contact,
        category=ConsentCategory.UTILITY,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=now,
        reference=f"order:{order.reference}",
    )
    link = payment_link_open(order=order, now=now)
    order_event_record(order, EventType.ORDER_CREATED, now=now)
    return order, link


def payment_link_open(*, order: Order, now: datetime) -> PaymentLink:
    """A new attempt: its expiry computed once, stock held until then, the Stripe session created after commit."""
    attempt = (order.payment_links.order_by("-attempt").values_list("attempt", flat=True).first() or 0) + 1
    expires_at = now + link_lifetime()
    link = PaymentLink.objects.create(
        order=order,
        attempt=attempt,
        token=secrets.token_urlsafe(24),
        idempotency_key=f"waco-order-{order.reference}-attempt-{attempt}",
        expires_at=expires_at,
    )
    if not stock.stock_hold_extend(holder=stock_holder(order), held_until=expires_at, now=now):
        try:
            stock.stock_hold(holder=stock_holder(order), wanted=order_units(order), held_until=expires_at, now=now)
        except stock.NotEnoughStock as exc:
            raise CheckoutRefusal("the stock it held has been sold meanwhile") from exc
    payment_link_issue_enqueue(link)
    return link


def payment_link_issue_enqueue(link: PaymentLink) -> None:
    """Create the link's Stripe session in a worker, after commit (checkout.payments.payment_link_issue)."""
    from checkout.tasks import issue_payment_link  # cycle: checkout.tasks imports this module

    transaction.on_commit(lambda: send_task_or_log(issue_payment_link, link.pk))


@transaction.atomic
def order_transition(
    *, order: Order, name: str, cause: str, detail: str = "", actor=None, now: datetime | None = None
) -> Order:
    """Lock the order, apply one status change, record it and announce it (after commit).

    `actor` is the staff user who asked, if one did."""
    if name not in TRANSITIONS:
        raise OrderTransitionRefused(f"no order transition named {name!r}")
    locked = Order.objects.select_for_update().get(pk=order.pk)
    source = locked.status
    try:
        transition_apply(
            locked, transition=TRANSITIONS[name], history="changes", cause=cause, detail=detail, actor=actor, now=now
        )
    except TransitionNotAllowed as exc:
        raise OrderTransitionRefused(f"an order that is {source.replace('_', ' ')} cannot be {name}") from exc
    order_event_record(locked, TRANSITION_EVENTS[name], now=now)
    signals.order_status_changed.send(sender=Order, order=locked, old=source, new=locked.status, cause=cause)
    return locked


def reservations_release(*, order: Order, now: datetime) -> int:
    return stock.stock_release(holder=stock_holder(order), now=now)


def reservations_consume(*, order: Order, now: datetime) -> None:
    """Paid at `now`: the order's units are sold (the system of record learns of the order through the API).
    Units no longer held are taken again at today's availability; catalog.stock.NotEnoughStock if they cannot be."""
    stock.stock_sell(holder=stock_holder(order), wanted=order_units(order), now=now)


def order_pending(*, contact: Contact, phone_number: PhoneNumber) -> Order | None:
    """The customer's unpaid order on this number, if one is waiting for payment."""
    return (
        Order.objects.filter(contact=contact, phone_number=phone_number, status=OrderStatus.PENDING_PAYMENT)
        .order_by("-created_at", "-pk")
        .first()
    )


def order_open_link(*, order: Order) -> PaymentLink | None:
    return order.payment_links.filter(status__in=[LinkStatus.ISSUING, LinkStatus.OPEN]).order_by("-attempt").first()


def _new_reference() -> str:
    while True:
        reference = "W" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
        if not Order.objects.filter(reference=reference).exists():
            return reference
