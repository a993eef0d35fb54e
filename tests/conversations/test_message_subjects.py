"""Every message conversations queues says what it is about: a message about an order names the
order by its reference, a cart recovery its cart, anything else its thread. The order admin and
the API find them by that subject (outbound.selectors.messages_about), never by dedupe keys."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from checkout import signals
from checkout.models import Order, OrderStatus
from conversations import staff
from conversations.models import Cart, CartLine, ThreadState
from conversations.recovery import cart_recovery_send
from conversations.services import thread_reply
from outbound.models import OutboundMessage
from outbound.selectors import messages_about
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import OrderFactory, paid_order
from tests.conversations.factories import ThreadFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


def window_open(contact, phone_number, *, at=None):
    contacts.window_touch(contact=contact, phone_number=phone_number, inbound_at=at or timezone.now())


def subject(message) -> tuple[str, str]:
    return message.subject_type, message.subject_id


@pytest.fixture
def order():
    """A paid order whose customer wrote a minute ago, and another order of theirs that must not be named."""
    order = paid_order()
    OrderFactory(contact=order.contact, phone_number=order.phone_number, business_account=order.business_account)
    window_open(order.contact, order.phone_number, at=timezone.now() - timedelta(minutes=1))
    return order


CHECKOUT_EVENTS = {
    "payment_link": lambda order, link: signals.payment_link_ready.send(sender=Order, order=order, link=link),
    "payment_reminder": lambda order, link: signals.payment_reminder_due.send(sender=Order, order=order, link=link),
    "reply": lambda order, link: signals.payment_link_ended.send(
        sender=Order, order=order, link=link, reason="expired"
    ),
    "order_receipt": lambda order, link: signals.order_paid.send(sender=Order, order=order),
    "order_update": lambda order, link: signals.order_status_changed.send(
        sender=Order, order=order, old=OrderStatus.PAID, new=OrderStatus.PACKED, cause="staff"
    ),
    "payment_refunded": lambda order, link: signals.order_status_changed.send(
        sender=Order, order=order, old=OrderStatus.EXPIRED, new=OrderStatus.REFUNDED, cause="late_payment"
    ),
}


@pytest.mark.parametrize("purpose", CHECKOUT_EVENTS)
def test_a_message_about_an_order_has_the_order_s_reference_as_its_subject(order, purpose):
    CHECKOUT_EVENTS[purpose](order, order.payment_links.get())
    message = OutboundMessage.objects.get()
    assert (message.purpose, subject(message)) == (purpose, ("order", order.reference))
    assert list(messages_about(subject_type="order", subject_id=order.reference)) == [message]


def test_a_replayed_event_keeps_one_message_with_its_subject(order):
    for _ in range(2):
        CHECKOUT_EVENTS["order_receipt"](order, None)
    assert [subject(m) for m in OutboundMessage.objects.all()] == [("order", order.reference)]


def test_a_cart_recovery_is_about_the_cart():
    quiet_since = timezone.now().replace(microsecond=0) - timedelta(hours=5)
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    cart = Cart.objects.create(thread=thread)
    CartLine.objects.create(cart=cart, variant=VariantFactory(), quantity=1)
    window_open(thread.contact, thread.phone_number, at=quiet_since)
    contacts.consent_record(
        contact=thread.contact,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.THREAD,
        recorded_at=quiet_since - timedelta(days=1),
    )
    assert cart_recovery_send(now=timezone.now()) == 1
    message = OutboundMessage.objects.get()
    assert (message.purpose, subject(message)) == ("cart_recovery", ("cart", str(cart.pk)))


def test_a_bot_reply_and_a_staff_reply_are_about_their_thread():
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    window_open(thread.contact, thread.phone_number)
    bot = thread_reply(thread=thread, content={"type": "text", "text": {"body": "Hi"}}, text="Hi")
    user = get_user_model().objects.create_user("alice", is_staff=True)
    person = staff.staff_reply(thread=thread, user=user, text="Size M is back tomorrow.")
    assert subject(bot) == subject(person) == ("thread", str(thread.pk))
    assert list(messages_about(subject_type="thread", subject_id=thread.pk)) == [bot, person]
