"""Every transition of the thread's state machine, allowed and refused, each recorded."""

import pytest

from conversations import services
from conversations.models import Thread, ThreadState, ThreadTransition, TransitionCause
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import ThreadFactory

pytestmark = pytest.mark.django_db
S = ThreadState

ALLOWED = [
    (S.BROWSING, "start_cart", S.BUILDING_CART),
    (S.BUILDING_CART, "empty_cart", S.BROWSING),
    (S.BUILDING_CART, "request_payment", S.AWAITING_PAYMENT),
    (S.AWAITING_PAYMENT, "return_to_cart", S.BUILDING_CART),
    (S.AWAITING_PAYMENT, "mark_paid", S.AWAITING_FULFILLMENT),
    (S.BROWSING, "mark_paid", S.AWAITING_FULFILLMENT),  # paid after the window closed and the state moved on
    (S.BUILDING_CART, "mark_paid", S.AWAITING_FULFILLMENT),  # paid just as the customer went back to the cart
    (S.AWAITING_FULFILLMENT, "close_order", S.BROWSING),
    (S.BUILDING_CART, "expire_window", S.BROWSING),
    (S.AWAITING_PAYMENT, "expire_window", S.BROWSING),
    (S.BROWSING, "hand_to_person", S.HANDOFF),
    (S.BUILDING_CART, "hand_to_person", S.HANDOFF),
    (S.AWAITING_PAYMENT, "hand_to_person", S.HANDOFF),
    (S.AWAITING_FULFILLMENT, "hand_to_person", S.HANDOFF),
    (S.HANDOFF, "hand_back", S.BROWSING),
]
REFUSED = [
    (S.BROWSING, "request_payment"),  # no cart, no checkout
    (S.HANDOFF, "mark_paid"),  # staff keep the thread; the receipt still goes
    (S.AWAITING_FULFILLMENT, "mark_paid"),
    (S.AWAITING_FULFILLMENT, "expire_window"),  # a paid order survives the window
    (S.BROWSING, "expire_window"),
    (S.HANDOFF, "hand_to_person"),
    (S.HANDOFF, "start_cart"),  # the bot is silent in handoff
    (S.BROWSING, "hand_back"),
]


@pytest.mark.parametrize("source, name, target", ALLOWED, ids=lambda v: str(v))
def test_each_allowed_transition_moves_the_thread_and_is_recorded(source, name, target):
    thread = ThreadFactory(state=source)
    thread = services.thread_transition(thread=thread, name=name, cause=TransitionCause.CUSTOMER, detail="test")
    assert thread.state == target
    assert Thread.objects.get(pk=thread.pk).state == target
    record = ThreadTransition.objects.get(thread=thread)
    assert (record.transition, record.from_state, record.to_state, record.cause) == (name, source, target, "customer")


@pytest.mark.parametrize("source, name", REFUSED, ids=lambda v: str(v))
def test_a_transition_that_does_not_fit_the_state_is_refused_and_changes_nothing(source, name):
    thread = ThreadFactory(state=source)
    with pytest.raises(services.ThreadTransitionRefused):
        services.thread_transition(thread=thread, name=name, cause=TransitionCause.CUSTOMER)
    assert Thread.objects.get(pk=thread.pk).state == source
    assert not ThreadTransition.objects.exists()


def test_an_unknown_transition_name_is_refused():
    with pytest.raises(services.ThreadTransitionRefused, match="no transition named"):
        services.thread_transition(thread=ThreadFactory(), name="delete", cause=TransitionCause.STAFF)


def test_handoff_remembers_where_the_bot_left_off():
    thread = ThreadFactory(state=S.AWAITING_PAYMENT)
    thread = services.thread_transition(thread=thread, name="hand_to_person", cause=TransitionCause.STAFF)
    assert thread.state_before_handoff == S.AWAITING_PAYMENT
    thread = services.thread_transition(thread=thread, name="hand_back", cause=TransitionCause.STAFF)
    assert (thread.state, thread.state_before_handoff) == (S.BROWSING, "")


def test_one_thread_per_customer_and_number():
    contact, number = ContactFactory(), PhoneNumberFactory()
    first = services.thread_for(contact=contact, phone_number=number)
    assert services.thread_for(contact=contact, phone_number=number).pk == first.pk
    assert services.thread_for(contact=contact, phone_number=PhoneNumberFactory()).pk != first.pk


def test_merging_two_records_of_one_customer_keeps_one_thread_per_number_and_their_messages():
    from outbound.models import OutboundMessage
    from tests.outbound.factories import OutboundMessageFactory
    from waco.contacts import services as contacts

    number = PhoneNumberFactory()
    by_phone = ContactFactory(wa_id="971500000077", user_id=None)
    by_user = ContactFactory(wa_id=None, user_id="US.77")
    kept = ThreadFactory(contact=by_phone, phone_number=number)
    other = ThreadFactory(contact=by_user, phone_number=number, state=S.BUILDING_CART)
    services.thread_transition(thread=other, name="empty_cart", cause=TransitionCause.CUSTOMER)
    elsewhere = ThreadFactory(contact=by_user)
    OutboundMessageFactory(contact=by_user, phone_number=number)

    survivor = contacts.contact_resolve(wa_id="971500000077", user_id="US.77")

    assert survivor.pk == by_phone.pk
    assert set(Thread.objects.values_list("pk", flat=True)) == {kept.pk, elsewhere.pk}
    assert Thread.objects.get(pk=elsewhere.pk).contact_id == survivor.pk
    assert ThreadTransition.objects.get().thread_id == kept.pk
    assert OutboundMessage.objects.get().contact_id == survivor.pk
