"""What the merchant's systems hear of an order (waco.events): one event per status change, written
in the transaction that makes it, carrying the order as it stands after the change.

The body is the order's essentials; `GET /api/v1/orders/{reference}` gives its history and links.
"""

from datetime import datetime

from django.db.models import Sum

from checkout.models import REFUND_COUNTED, Order
from waco.events.models import EventType
from waco.events.services import event_record

# The event each status change is; the four fulfilment steps share one (the status says which).
TRANSITION_EVENTS = {
    "pay": EventType.ORDER_PAID,
    "expire": EventType.ORDER_EXPIRED,
    "cancel": EventType.ORDER_CANCELLED,
    "refund": EventType.ORDER_REFUNDED,
    "pack": EventType.ORDER_FULFILMENT_UPDATED,
    "ship": EventType.ORDER_FULFILMENT_UPDATED,
    "out_for_delivery": EventType.ORDER_FULFILMENT_UPDATED,
    "deliver": EventType.ORDER_FULFILMENT_UPDATED,
}


def order_event_data(order: Order) -> dict:
    refunded = order.refunds.filter(status__in=REFUND_COUNTED).aggregate(total=Sum("amount_minor"))["total"]
    return {
        "reference": order.reference,
        "external_reference": order.external_reference or None,
        "account": order.business_account.waba_id,
        "status": order.status,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "refunded_minor": refunded or 0,
        "paid_at": order.paid_at,
        "customer": {"wa_id": order.contact.wa_id, "user_id": order.contact.user_id},
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "line_total_minor": line.line_total_minor,
            }
            for line in order.lines.order_by("pk")
        ],
        "carrier": order.carrier or None,
        "tracking_url": order.tracking_url or None,
        "cancel_reason": order.cancel_reason or None,
    }


def order_event_record(order: Order, type: str, *, now: datetime | None = None) -> None:
    """Inside the caller's transaction, with the order locked (its subject's sequence follows its changes)."""
    event_record(
        type, f"order:{order.reference}", order_event_data(order), business_account=order.business_account, now=now
    )
