"""What checkout tells the rest of Waco. Conversations listens and talks to the customer;
checkout never imports conversations. Receivers run inside checkout's transaction."""

from django.dispatch import Signal

# What a message about an order carries as its outbound subject, with the order's reference
# (outbound.selectors.messages_about): its links, reminders, receipt and updates.
ORDER_SUBJECT = "order"

# A payment link can be sent: kwargs order, link (its url is link_url(link)).
payment_link_ready = Signal()
# A payment attempt ended unpaid: kwargs order, link, reason ("expired" or "failed").
payment_link_ended = Signal()
# Stripe, re-read, says the order is paid: kwargs order. Sent once per order.
order_paid = Signal()
# Any status change: kwargs order, old, new, cause. Unpaid -> refunded is a late payment refunded
# because its stock was gone.
order_status_changed = Signal()
# An open payment link has waited long enough: remind the customer once. kwargs order, link (already claimed).
payment_reminder_due = Signal()
