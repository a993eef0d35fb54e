"""Human handoff services: take, reply in the window, template outside it, hand back; refusals change nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations import staff
from conversations.models import Direction, ThreadMessage, ThreadState, ThreadTransition, TransitionCause
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from templates_lib.models import TemplateCategory, TemplateStatus
from tests.conversations.factories import ThreadFactory
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", is_staff=True)


def window_opened(thread, *, hours_ago: float = 0):
    contacts.window_touch(
        contact=thread.contact, phone_number=thread.phone_number, inbound_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return thread


def utility_consent(thread):
    contacts.consent_record(
        contact=thread.contact,
        category=ConsentCategory.UTILITY,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=timezone.now(),
    )
    return thread


def chain(thread, *, key="staff_followup", category=TemplateCategory.UTILITY, **template):
    """A purpose with one approved template on the thread's account."""
    link = PurposeTemplateFactory(
        purpose=PurposeFactory(key=key, category=category),
        template=TemplateFactory(business_account=thread.phone_number.business_account, category=category, **template),
    )
    return link.template


def nothing_sent():
    return not OutboundMessage.objects.exists() and not ThreadMessage.objects.exists()


# --- take and hand back -----------------------------------------------------------------


def test_taking_a_thread_hands_it_to_a_person_and_records_who(user):
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    thread = staff.thread_take(thread=thread, user=user)
    assert (thread.state, thread.state_before_handoff) == (ThreadState.HANDOFF, ThreadState.BUILDING_CART)
    record = ThreadTransition.objects.get(thread=thread)
    assert (record.transition, record.cause, record.detail) == ("hand_to_person", TransitionCause.STAFF, "by alice")


def test_taking_a_thread_already_with_a_person_is_refused_and_changes_nothing(user):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    with pytest.raises(staff.StaffRefusal, match="already with a person"):
        staff.thread_take(thread=thread, user=user)
    assert not ThreadTransition.objects.exists()


def test_handing_back_returns_to_browsing_and_tells_the_customer_in_the_window(user):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF, phone_number__verified_name="Linen House"))
    thread = staff.thread_hand_back(thread=thread, user=user)
    assert thread.state == ThreadState.BROWSING
    assert ThreadTransition.objects.get(thread=thread).detail == "by alice"
    message = OutboundMessage.objects.get()
    assert message.status == MessageStatus.QUEUED
    assert "back with the Linen House assistant" in message.content["text"]["body"]
    kept = ThreadMessage.objects.get()
    assert (kept.outbound, kept.direction, kept.staff_user) == (message, Direction.OUTBOUND, None)


def test_handing_back_outside_the_window_sends_nothing(user):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=30)
    assert staff.thread_hand_back(thread=thread, user=user).state == ThreadState.BROWSING
    assert nothing_sent()


def test_handing_back_a_thread_the_bot_has_is_refused_and_changes_nothing(user):
    thread = window_opened(ThreadFactory(state=ThreadState.BROWSING))
    with pytest.raises(staff.StaffRefusal, match="not with a person"):
        staff.thread_hand_back(thread=thread, user=user)
    assert not ThreadTransition.objects.exists()
    assert nothing_sent()


# --- free-form replies --------------------------------------------------------------------


def test_a_reply_in_the_window_is_queued_and_kept_with_its_author(user):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=2)
    message = staff.staff_reply(thread=thread, user=user, text="  Yes, size M is back tomorrow.  ")
    assert OutboundMessage.objects.get() == message
    assert (message.status, message.category) == (MessageStatus.QUEUED, MessageCategory.SERVICE)
    assert message.content == {"type": "text", "text": {"body": "Yes, size M is back tomorrow."}}
    kept = ThreadMessage.objects.get()
    assert (kept.thread, kept.direction, kept.staff_user, kept.text) == (
        thread,
        Direction.OUTBOUND,
        user,
        "Yes, size M is back tomorrow.",
    )


def test_a_reply_outside_the_window_is_refused_naming_when_it_closed(user):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=30)
    closed_at = contacts.window_open_until(contact=thread.contact, phone_number=thread.phone_number)
    with pytest.raises(staff.WindowClosed) as refusal:
        staff.staff_reply(thread=thread, user=user, text="Hello?")
    assert refusal.value.closed_at == closed_at
    assert f"closed at {closed_at:%Y-%m-%d %H:%M} UTC" in str(refusal.value)
    assert "template" in str(refusal.value)
    assert nothing_sent()


def test_a_reply_to_a_customer_who_never_wrote_is_refused(user):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    with pytest.raises(staff.WindowClosed, match="never opened") as refusal:
        staff.staff_reply(thread=thread, user=user, text="Hello?")
    assert refusal.value.closed_at is None
    assert nothing_sent()


@pytest.mark.parametrize("state", [ThreadState.BROWSING, ThreadState.AWAITING_PAYMENT])
def test_a_reply_while_the_bot_has_the_thread_is_refused(user, state):
    thread = window_opened(ThreadFactory(state=state))
    with pytest.raises(staff.StaffRefusal, match="Take the thread over first"):
        staff.staff_reply(thread=thread, user=user, text="Hello")
    assert nothing_sent()


@pytest.mark.parametrize("text, reason", [(" \n ", "empty"), ("x" * 4097, "4097 characters")])
def test_an_empty_or_too_long_reply_is_refused(user, text, reason):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF))
    with pytest.raises(staff.StaffRefusal, match=reason):
        staff.staff_reply(thread=thread, user=user, text=text)
    assert nothing_sent()


def test_a_double_submitted_reply_is_sent_once(user):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF))
    first = staff.staff_reply(thread=thread, user=user, text="On its way", dedupe_key="staff-reply:1:abc")
    second = staff.staff_reply(thread=thread, user=user, text="On its way", dedupe_key="staff-reply:1:abc")
    assert first == second
    assert (OutboundMessage.objects.count(), ThreadMessage.objects.count()) == (1, 1)


# --- templates outside the window -----------------------------------------------------------


def test_a_template_outside_the_window_is_rendered_and_queued(user):
    thread = utility_consent(window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=30))
    template = chain(thread)
    message = staff.staff_send_template(
        thread=thread, user=user, purpose="staff_followup", params={"customer": "Amina", "order_id": "A-1042"}
    )
    assert (message.status, message.category, message.purpose) == (
        MessageStatus.QUEUED,
        MessageCategory.UTILITY,
        "staff_followup",
    )
    assert message.template_name == template.name
    body = message.content["template"]["components"][0]["parameters"]
    assert [p["text"] for p in body] == ["Amina", "A-1042"]
    kept = ThreadMessage.objects.get()
    assert (kept.staff_user, kept.type) == (user, "template")
    assert kept.text == f"[template {template.name}] Hi Amina, your order A-1042 has shipped."


def test_a_template_chosen_as_offered_goes_by_its_purpose(user):
    thread = utility_consent(ThreadFactory(state=ThreadState.HANDOFF))
    template = chain(thread)
    message = staff.staff_send_template(
        thread=thread, user=user, template=template, params={"customer": "Amina", "order_id": "A-1"}
    )
    assert (message.purpose, message.template_name) == ("staff_followup", template.name)


def test_a_template_no_purpose_would_send_is_refused(user):
    thread = utility_consent(ThreadFactory(state=ThreadState.HANDOFF))
    chain(thread)
    stray = TemplateFactory(business_account=thread.phone_number.business_account)  # in no chain
    with pytest.raises(staff.StaffRefusal, match="choose one offered"):
        staff.staff_send_template(thread=thread, user=user, template=stray, params={})
    with pytest.raises(staff.StaffRefusal, match="No approved template serves the purpose 'nope'"):
        staff.staff_send_template(thread=thread, user=user, purpose="nope", params={})
    assert nothing_sent()


def test_a_template_with_a_missing_parameter_is_refused_and_nothing_stored(user):
    thread = utility_consent(ThreadFactory(state=ThreadState.HANDOFF))
    chain(thread)
    with pytest.raises(staff.StaffRefusal, match="missing parameter 'order_id'"):
        staff.staff_send_template(thread=thread, user=user, purpose="staff_followup", params={"customer": "Amina"})
    assert nothing_sent()


def test_a_template_without_consent_comes_back_failed_with_the_reason(user):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    chain(thread)
    message = staff.staff_send_template(
        thread=thread, user=user, purpose="staff_followup", params={"customer": "Amina", "order_id": "A-1"}
    )
    assert message.status == MessageStatus.FAILED
    assert "no utility consent" in message.error_detail
    assert ThreadMessage.objects.get().outbound == message  # the thread shows what was not sent


def test_a_template_while_the_bot_has_the_thread_is_refused(user):
    thread = utility_consent(ThreadFactory(state=ThreadState.BROWSING))
    chain(thread)
    with pytest.raises(staff.StaffRefusal, match="Take the thread over first"):
        staff.staff_send_template(
            thread=thread, user=user, purpose="staff_followup", params={"customer": "Amina", "order_id": "A-1"}
        )
    assert nothing_sent()


def test_offers_are_the_template_each_purpose_would_send_now(user):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    paused = chain(thread, key="staff_followup", status=TemplateStatus.PAUSED)
    fallback = PurposeTemplateFactory(
        purpose=paused.purposes.get(),
        position=99,
        template=TemplateFactory(business_account=thread.phone_number.business_account),
    )
    chain(thread, key="staff_otp", category=TemplateCategory.AUTHENTICATION)  # passcodes are not for staff
    TemplateFactory(business_account=thread.phone_number.business_account)  # approved, in no chain
    chain(ThreadFactory(), key="other_shop")  # another account's
    offers = staff.templates_offered(thread=thread)
    assert [(o.purpose.key, o.template) for o in offers] == [("staff_followup", fallback.template)]
    assert [p.key for p in offers[0].params] == ["customer", "order_id"]


def test_window_status_reads_open_until_and_closed_since():
    thread = ThreadFactory()
    assert staff.window_status(thread=thread).text == "closed: the customer has never written to this number"
    window_opened(thread, hours_ago=1)
    until = contacts.window_open_until(contact=thread.contact, phone_number=thread.phone_number)
    assert staff.window_status(thread=thread).text == f"open until {until:%Y-%m-%d %H:%M} UTC"
    assert staff.window_status(thread=thread, now=until).text == f"closed since {until:%Y-%m-%d %H:%M} UTC"
