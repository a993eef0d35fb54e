"""What the thread says and does when checkout reports a payment event (checkout.signals).

Runs inside checkout's transaction: the thread is locked, its state moves and the
message is queued with a dedupe key, so a replayed event never speaks twice.
"""

from django.utils import timezone

from catalog.money import amount_format
from checkout.payments import link_url
from conversations import replies
from conversations.models import CartLine, ThreadState, TransitionCause
from conversations.services import REPLY_PURPOSE, order_reply, thread_locked, thread_transition
from outbound.models import MessageCategory
from waco.contacts import services as contacts


def payment_link_ready(sender, *, order, link, **kwargs) -> None:
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    total = amount_format(order.total_minor, order.currency)
    reply = replies.pay_link(
        reference=order.reference, total_display=total, url=link_url(link), expires_at=replies.clock(link.expires_at)
    )
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        purpose="payment_link",
        template_params={
            "order_ref": order.reference,
            "total": total,
            "expires_at": replies.clock(link.expires_at),
            "pay_token": link.token,
        },
        dedupe_key=f"payment_link:{link.pk}",
    )


def order_paid(sender, *, order, **kwargs) -> None:
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    if thread.state in (ThreadState.BROWSING, ThreadState.BUILDING_CART, ThreadState.AWAITING_PAYMENT):
        thread = thread_transition(
            thread=thread, name="mark_paid", cause=TransitionCause.PAYMENT, detail=order.reference
        )
    bought = [line.variant_id for line in order.lines.all() if line.variant_id]
    CartLine.objects.filter(cart__thread=thread, variant_id__in=bought).delete()
    total = amount_format(order.total_minor, order.currency)
    lines = [
        f"• {line.quantity} × {line.name}: {amount_format(line.line_total_minor, order.currency)}"
        for line in order.lines.all()
    ]
    reply = replies.receipt(reference=order.reference, lines=lines, total_display=total)
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        purpose="order_receipt",
        template_params={
            "customer": order.contact.profile_name or "there",
            "total": total,
            "order_ref": order.reference,
        },
        dedupe_key=f"order_receipt:{order.pk}",
    )


def payment_link_ended(sender, *, order, link, reason, **kwargs) -> None:
    thread = thread_locked(contact=order.contact, phone_number=order.phone_number)
    if thread.state == ThreadState.AWAITING_PAYMENT:
        thread = thread_transition(
            thread=thread, name="return_to_cart", cause=TransitionCause.PAYMENT, detail=f"link {reason}"
        )
    if not contacts.window_is_open(contact=thread.contact, phone_number=thread.phone_number, now=timezone.now()):
        return  # outside the window the cart waits for the recovery message, which has its own rules
    reply = replies.payment_ended(reference=order.reference, reason=reason)
    order_reply(
        thread=thread,
        order=order,
        reply=reply,
        category=MessageCategory.SERVICE,
        purpose=REPLY_PURPOSE,
        dedupe_key=f"payment_ended:{link.pk}",
    )
