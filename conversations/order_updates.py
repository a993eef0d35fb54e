"""What the thread says when an order moves after payment, and when its payment link is waiting.

Receivers of checkout.signals, run inside checkout's transaction. Inside the
service window the free-form text below goes; outside it the outbound policy
sends the purpose's approved utility template (falling back along its chain)
with the named parameters given here. Dedupe keys make a replayed event silent.
"""

from catalog.money import amount_format
from checkout.models import REFUND_COUNTED, OrderStatus
from checkout.payments import link_url
from conversations.models import ThreadState, TransitionCause
from conversations.replies import Reply, clock, pay_link, text_reply
from conversations.services import order_reply, thread_locked, thread_transition

# Statuses the customer hears about after payment; "paid" has its receipt (checkout_replies).
TOLD = (
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
)
# An order refunded from these was paid late, after its stock was gone (checkout.late_payments).
UNPAID = (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED)
# The order is over: the thread leaves "awaiting fulfilment" so the customer may shop again.
ENDS_THE_ORDER = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def _customer(order) -> str:
    return order.contact.profile_name or "there"


def _refunded_amount(order) -> str:
    refund = order.refunds.filter(status__in=REFUND_COUNTED).order_by("-created_at", "-pk").first()
    return amount_format(refund.amount_minor, refund.currency) if refund else ""


def order_update_detail(order, status: str) -> str:
    """One sentence on what happens next: the free-form message's end and the template's {{detail}}."""
    if status == OrderStatus.PACKED:
        return "It will ship soon; we will send the tracking link."
    if status in (OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY):
        return f"Carrier: {order.carrier}. Track it here: {order.tracking_url}"
    if status == OrderStatus.DELIVERED:
        return "Thank you for shopping with us!"
    if status == OrderStatus.CANCELLED:
        paid = order.paid_at is not None
        return f"Reason: {order.cancel_reason}. " + (
            "Your payment is being refunded." if paid else "Nothing was charged."
        )
    return f"We refunded {_refunded_amount(order)}; banks take 5-10 days to show it."  # refunded


def order_update_reply(order, status: str) -> Reply:
    headline = {
        OrderStatus.PACKED: f"Your order {order.reference} is packed.",
        OrderStatus.SHIPPED: f"Your order {order.reference} has shipped!",
        OrderStatus.OUT_FOR_DELIVERY: f"Your order {order.reference} is out for delivery today.",
        OrderStatus.DELIVERED: f"Your order {order.reference} has been delivered.",
        OrderStatus.CANCELLED: f"Your order {order.reference} has been cancelled.",
        OrderStatus.REFUNDED: f"Your order {order.reference} has been refunded.",
    }[status]
    return text_reply(f"{headline} {order_update_detail(order, status)}")


def order_status_changed(sender, *, order, old, new, cause, **kwargs) -> None:
    """checkout.signals.order_status_changed: tell the customer, then move the thread if the order is over."""
    if new == OrderStatus.REFUNDED and old in UNPAID:
        return late_payment_refunded(order)
    if new not in TOLD:
        return
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    reply = order_update_reply(order, new)
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        purpose="order_update",
        dedupe_key=f"order_update:{order.pk}:{new}",
        template_params={
            "customer": _customer(order),
            "order_ref": order.reference,
            "status": OrderStatus(new).label.lower(),
            "detail": order_update_detail(order, new),
        },
    )
    if new in ENDS_THE_ORDER and thread.state == ThreadState.AWAITING_FULFILLMENT:
        thread_transition(
            thread=thread, name="close_order", cause=TransitionCause.FULFILMENT, detail=f"{order.reference} {new}"
        )
    elif new == OrderStatus.CANCELLED and thread.state == ThreadState.AWAITING_PAYMENT:
        thread_transition(
            thread=thread,
            name="return_to_cart",
            cause=TransitionCause.FULFILMENT,
            detail=f"{order.reference} cancelled",
        )


def late_payment_refunded(order) -> None:
    """A payment that came after the link closed, when the stock was gone, went back in full."""
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    amount = _refunded_amount(order)
    reply = text_reply(
        f"Your payment of {amount} for order {order.reference} arrived after the items sold out, "
        "so we refunded it in full; banks take 5-10 days to show it."
    )
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        purpose="payment_refunded",
        dedupe_key=f"payment_refunded:{order.pk}",
        template_params={"customer": _customer(order), "order_ref": order.reference, "total": amount},
    )


# --- payment reminder -----------------------------------------------------------------


def payment_reminder_due(sender, *, order, link, **kwargs) -> None:
    """checkout.signals.payment_reminder_due: the one reminder of an open link (checkout already claimed it)."""
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    total = amount_format(order.total_minor, order.currency)
    reply = pay_link(
        reference=order.reference,
        total_display=total,
        url=link_url(link),
        expires_at=clock(link.expires_at),
        reminder=True,
    )
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        purpose="payment_reminder",
        dedupe_key=f"payment_reminder:{link.pk}",
        template_params={
            "customer": _customer(order),
            "order_ref": order.reference,
            "total": total,
            "expires_at": clock(link.expires_at),
        },
        now=link.reminded_at,  # the beat's "now": the window is judged at the time the reminder is due
    )
