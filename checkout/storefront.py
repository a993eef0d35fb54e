"""What the merchant's order system does to orders (through the REST API), callable without HTTP.

Fulfilment events go through checkout.fulfilment like the admin's; what this
module adds is the answer to a repeat. A storefront that retries without an
Idempotency-Key sends the same event again: when the order has already been
through that event with the same details, nothing is done again (no second
shipment notice, no second refund, no second message) and the caller is told
it was already applied.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.fulfilment import FulfilmentNotAllowed, fulfilment_apply
from checkout.models import REFUND_COUNTED, Order, OrderStatus

# Event -> the status the order reaches through it (a cancelled paid order goes on to refunded).
EVENT_STATUS = {
    "packed": OrderStatus.PACKED,
    "shipped": OrderStatus.SHIPPED,
    "out_for_delivery": OrderStatus.OUT_FOR_DELIVERY,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}


class ExternalReferenceTaken(Exception):
    """Another order of the same business account already carries this external reference."""

    def __init__(self, reference: str):
        super().__init__(f"order {reference} already has this external_reference")
        self.reference = reference


@dataclass(frozen=True, kw_only=True)
class FulfilmentEvent:
    """One event as the order system reports it; only the fields its name uses are read."""

    name: str
    carrier: str = ""
    tracking_url: str = ""
    reason: str = ""
    amount_minor: int | None = None


def order_event_report(*, order: Order, event: FulfilmentEvent, by_name: str, now: datetime | None = None):
    """Apply the event (refused with checkout.fulfilment's exceptions), or recognise a repeat of one applied.

    Returns (order as it is now, applied): applied is False for a repeat, which changed nothing."""
    if event_already_applied(order, event):
        return Order.objects.get(pk=order.pk), False
    try:
        updated = fulfilment_apply(
            order=order,
            event=event.name,
            by="api",
            by_name=by_name,
            now=now or timezone.now(),
            carrier=event.carrier,
            tracking_url=event.tracking_url,
            reason=event.reason,
            amount_minor=event.amount_minor,
        )
    except FulfilmentNotAllowed:
        if event_already_applied(order, event):  # a concurrent duplicate got there first
            return Order.objects.get(pk=order.pk), False
        raise
    return updated, True


def event_already_applied(order: Order, event: FulfilmentEvent) -> bool:
    """The order has been through this event, with these details (carrier and tracking, reason, amount)."""
    order = Order.objects.get(pk=order.pk)
    if not order.changes.filter(to_state=EVENT_STATUS[event.name]).exists():
        return False
    if event.name == "shipped":
        return (order.carrier, order.tracking_url) == (event.carrier.strip(), event.tracking_url.strip())
    if event.name == "cancelled":
        return order.cancel_reason == event.reason.strip()[: Order._meta.get_field("cancel_reason").max_length]
    if event.name == "refunded" and event.amount_minor is not None:
        return order.refunds.filter(status__in=REFUND_COUNTED, amount_minor=event.amount_minor).exists()
    return True


def order_external_reference_set(*, order: Order, external_reference: str) -> tuple[Order, bool]:
    """Set the order system's id for the order (blank clears it). Returns (order, changed);
    raises ExternalReferenceTaken when another order of the account has it."""
    external_reference = external_reference.strip()
    if order.external_reference == external_reference:
        return order, False
    if external_reference:
        taken = (
            Order.objects.filter(business_account_id=order.business_account_id, external_reference=external_reference)
            .exclude(pk=order.pk)
            .values_list("reference", flat=True)
            .first()
        )
        if taken:
            raise ExternalReferenceTaken(taken)
    order.external_reference = external_reference
    try:
        with transaction.atomic():
            order.save(update_fields=["external_reference", "updated_at"])
    except IntegrityError:  # set on another order meanwhile
        raise ExternalReferenceTaken("another order") from None
    return order, True
