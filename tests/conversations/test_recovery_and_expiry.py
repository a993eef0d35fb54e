"""Cart recovery and thread expiry, run in-process at chosen times as beat would run them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import LinkStatus, OrderStatus
from conversations import recovery
from conversations.expiry import threads_expire_windows
from conversations.models import Cart, CartLine, ThreadState, ThreadTransition
from conversations.recovery import cart_recovery_send
from outbound.models import MessageStatus, OutboundMessage
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import OrderFactory, PaymentLinkFactory, approved_chain
from tests.conversations.factories import ThreadFactory
from waco.celery_config import QUEUE_MARKETING
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    """The customer's last message."""
    return timezone.now().replace(microsecond=0) - timedelta(days=2)


def consent(thread, action, at):
    contacts.consent_record(
        contact=thread.contact,
        category=ConsentCategory.MARKETING,
        action=action,
        source=ConsentSource.THREAD,
        recorded_at=at,
    )


def left_cart(t0, *, state=ThreadState.BUILDING_CART, opted_in=True, lines=2):
    """A thread whose customer filled a cart, then went quiet at t0."""
    thread = ThreadFactory(state=state, contact__profile_name="Amal")
    cart = Cart.objects.create(thread=thread)
    for n in range(lines):
        CartLine.objects.create(cart=cart, variant=VariantFactory(product__name=f"Abaya {n}"), quantity=n + 1)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=t0)
    if opted_in:
        consent(thread, ConsentAction.OPT_IN, t0 - timedelta(days=1))
    return thread


def recovery_messages():
    return OutboundMessage.objects.filter(purpose="cart_recovery")


# --- cart recovery --------------------------------------------------------------------


def test_a_left_cart_gets_one_marketing_message_on_the_marketing_queue(
    t0, monkeypatch, django_capture_on_commit_callbacks
):
    thread = left_cart(t0)
    rung = []
    monkeypatch.setattr("outbound.services.outbox_ring", rung.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 1
    assert cart_recovery_send(now=t0 + timedelta(hours=6)) == 0
    message = recovery_messages().get()
    assert (message.status, message.category, message.template_name) == (MessageStatus.QUEUED, "marketing", "")
    assert rung == [QUEUE_MARKETING]
    body = message.content["interactive"]["body"]["text"]
    assert body.startswith("Hello Amal, you left 1 × ") and "2 × " in body
    assert [b["reply"]["id"] for b in message.content["interactive"]["action"]["buttons"]] == ["cart", "checkout"]
    assert Cart.objects.get(thread=thread).recovery_sent_at == t0 + timedelta(hours=5)


def test_no_recovery_before_the_delay(t0, settings):
    left_cart(t0)
    assert settings.WACO_CART_RECOVERY_HOURS == 4
    assert cart_recovery_send(now=t0 + timedelta(hours=3, minutes=59)) == 0


def test_outside_the_window_recovery_is_the_cart_recovery_template(t0):
    thread = left_cart(t0, lines=5)
    approved_chain(thread.phone_number.business_account, "cart_recovery", "cart_recovery_v1")
    cart_recovery_send(now=t0 + timedelta(hours=30))
    message = recovery_messages().get()
    assert message.status == MessageStatus.QUEUED and message.template_name == "cart_recovery_v1"
    assert message.template_params["customer"] == "Amal"
    assert message.template_params["items"].endswith("and 2 more")


def test_no_recovery_without_a_marketing_opt_in(t0):
    left_cart(t0, opted_in=False)
    assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 0
    assert not OutboundMessage.objects.exists()


def test_no_recovery_after_the_customer_opted_out(t0):
    thread = left_cart(t0)
    consent(thread, ConsentAction.OPT_OUT, t0 + timedelta(hours=1))
    assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 0
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize("state", [ThreadState.HANDOFF, ThreadState.AWAITING_PAYMENT, ThreadState.AWAITING_FULFILLMENT])
def test_no_recovery_while_a_person_or_an_order_has_the_thread(t0, state):
    left_cart(t0, state=state)
    assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 0


def test_no_recovery_while_an_order_waits_for_payment(t0):
    thread = left_cart(t0, state=ThreadState.BROWSING)
    PaymentLinkFactory(order=OrderFactory(contact=thread.contact, phone_number=thread.phone_number))
    assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 0


def test_no_recovery_for_an_empty_cart_or_a_stale_one(t0):
    left_cart(t0, lines=0)
    left_cart(t0 - timedelta(days=8))
    assert cart_recovery_send(now=t0 + timedelta(hours=5)) == 0


def test_a_customer_who_came_back_and_left_again_may_get_one_more(t0):
    thread = left_cart(t0)
    cart_recovery_send(now=t0 + timedelta(hours=5))
    back = t0 + timedelta(hours=6)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=back)
    assert cart_recovery_send(now=back + timedelta(hours=3)) == 0
    assert cart_recovery_send(now=back + timedelta(hours=5)) == 1
    assert cart_recovery_send(now=back + timedelta(hours=9)) == 0
    assert recovery_messages().count() == 2


def test_a_cart_picked_by_two_runs_is_nudged_once(t0, monkeypatch):
    left_cart(t0)
    now = t0 + timedelta(hours=5)
    picked = list(recovery.carts_to_recover(now=now))
    monkeypatch.setattr(recovery, "carts_to_recover", lambda **kwargs: picked)
    assert cart_recovery_send(now=now) == 1
    assert cart_recovery_send(now=now) == 0
    assert recovery_messages().count() == 1


# --- thread expiry --------------------------------------------------------------------


def test_a_closed_window_moves_a_cart_thread_to_browsing_and_keeps_the_cart(t0):
    thread = left_cart(t0)
    assert threads_expire_windows(now=t0 + timedelta(hours=23, minutes=59)) == 0
    assert threads_expire_windows(now=t0 + timedelta(hours=24, minutes=1)) == 1
    assert threads_expire_windows(now=t0 + timedelta(hours=25)) == 0
    thread.refresh_from_db()
    assert thread.state == ThreadState.BROWSING
    transition = ThreadTransition.objects.get()
    assert (transition.transition, transition.from_state, transition.cause) == (
        "expire_window",
        "building_cart",
        "window",
    )
    assert transition.created_at == t0 + timedelta(hours=24, minutes=1)
    assert CartLine.objects.filter(cart__thread=thread).count() == 2


def test_an_awaiting_payment_thread_expires_and_its_order_is_left_to_its_link(t0):
    thread = left_cart(t0, state=ThreadState.AWAITING_PAYMENT)
    link = PaymentLinkFactory(order=OrderFactory(contact=thread.contact, phone_number=thread.phone_number))
    threads_expire_windows(now=t0 + timedelta(hours=25))
    thread.refresh_from_db()
    link.refresh_from_db()
    assert thread.state == ThreadState.BROWSING
    assert (link.status, link.order.status) == (LinkStatus.OPEN, OrderStatus.PENDING_PAYMENT)


@pytest.mark.parametrize("state", [ThreadState.BROWSING, ThreadState.HANDOFF, ThreadState.AWAITING_FULFILLMENT])
def test_threads_outside_the_cart_states_are_left_alone(t0, state):
    left_cart(t0, state=state)
    assert threads_expire_windows(now=t0 + timedelta(hours=25)) == 0
    assert not ThreadTransition.objects.exists()


def test_an_expired_thread_keeps_its_cart_for_recovery_by_template(t0):
    thread = left_cart(t0)
    approved_chain(thread.phone_number.business_account, "cart_recovery", "cart_recovery_v1")
    threads_expire_windows(now=t0 + timedelta(hours=25))
    assert cart_recovery_send(now=t0 + timedelta(hours=26)) == 1
    assert recovery_messages().get().template_name == "cart_recovery_v1"


def test_beat_runs_recovery_and_expiry_at_the_current_time():
    from conversations.tasks import expire_windows, send_cart_recovery
    from waco import periodic

    jobs = {job.name: job for job in periodic.registered_jobs()}
    assert jobs["conversations.send_cart_recovery"].task == "conversations.send_cart_recovery"
    assert jobs["conversations.expire_windows"].task == "conversations.expire_windows"
    thread = left_cart(timezone.now() - timedelta(hours=25))
    send_cart_recovery()
    expire_windows()
    thread.refresh_from_db()
    assert thread.state == ThreadState.BROWSING
    assert recovery_messages().get().status == MessageStatus.FAILED  # no cart_recovery template on this account
