"""Contact, thread and message events from their real causes: consent changed in the chat, a
handoff asked for, and message.failed from the policy (at enqueue and at send time), Meta's
`failed` status, the sweep, and Meta refusing the send; a refusal the caller answers records nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import ThreadState
from conversations.services import thread_transition
from outbound import policy, services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from outbound.sending import outbox_claim, outbox_drain
from outbound.sweeps import outbox_sweep
from tests.contacts.factories import ContactFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.chat import Chat
from tests.support.events import amal, as_json, history, last, number  # noqa: F401  (amal, number: fixtures)
from tests.support.payloads import webhook
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource
from waco.events.models import Event, EventType
from waco.sandbox import services as sandbox

T = EventType
REPLY = {"type": "text", "text": {"body": "Your size M is back in stock"}}


# --- consent and handoff, from the customer's messages ----------------------------------------


@pytest.fixture
def chat(number, seed_keywords):
    return Chat(number, wa_id="971502230002", name="Huda")


@pytest.mark.django_db
def test_stop_in_the_chat_records_consent_changed_once_and_getting_offers_again_records_it_again(chat):
    chat.says("STOP")
    chat.says("stop")  # said again: still opted out, nothing changed
    chat.taps("consent:yes", "Get offers again")

    contact = chat.thread.contact
    subject = f"contact:{contact.pk}"
    assert history(subject) == [(T.CONSENT_CHANGED, 1), (T.CONSENT_CHANGED, 2)]
    stop, again = Event.objects.filter(subject=subject).order_by("sequence")
    assert stop.data["contact"] == {"id": contact.pk, "wa_id": "971502230002", "user_id": contact.user_id}
    assert (stop.data["category"], stop.data["granted"], stop.data["action"], stop.data["source"]) == (
        "marketing",
        False,
        "opt_out",
        "thread",
    )
    assert stop.data["reference"].startswith("message:wamid.")
    assert (again.data["granted"], again.data["action"]) == (True, "opt_in")


@pytest.mark.django_db
def test_asking_for_a_person_records_thread_handoff_requested_once_until_staff_hand_back(chat, number):
    chat.says("agent")
    chat.says("agent")  # the bot is silent while a person has the thread
    thread = chat.thread
    assert thread.state == ThreadState.HANDOFF

    subject = f"thread:{thread.pk}"
    assert history(subject) == [(T.THREAD_HANDOFF_REQUESTED, 1)]
    event = last(T.THREAD_HANDOFF_REQUESTED, subject)
    assert event.business_account == number.business_account
    assert event.data | {"detail": None} == {
        "thread": thread.pk,
        "account": number.business_account.waba_id,
        "phone_number": number.graph_id,
        "contact": {"id": thread.contact_id, "wa_id": "971502230002", "user_id": thread.contact.user_id},
        "cause": "customer",
        "detail": None,
    }
    assert event.data["detail"].startswith("wamid.")  # the message that asked

    thread_transition(thread=thread, name="hand_back", cause="staff")
    chat.says("human")
    assert history(subject) == [(T.THREAD_HANDOFF_REQUESTED, 1), (T.THREAD_HANDOFF_REQUESTED, 2)]


# --- failed messages --------------------------------------------------------------------------


def reply_to(contact, number, *, category=MessageCategory.SERVICE, purpose="reply", content=REPLY, **kwargs):
    return services.message_enqueue(
        phone_number=number, contact=contact, category=category, purpose=purpose, content=content, **kwargs
    )


def meta_reports_failed(message: OutboundMessage, code: int, title: str) -> None:
    """Meta's `failed` status for the message, through the webhook's inbox as a worker processes it."""
    body = webhook("pywa__message_status__failed.json")
    value = body["entry"][0]["changes"][0]["value"]
    body["entry"][0]["id"] = message.phone_number.business_account.waba_id
    value["metadata"]["phone_number_id"] = message.phone_number.graph_id
    value.pop("contacts")
    value["statuses"][0] |= {
        "id": message.wamid,
        "recipient_id": message.recipient,
        "timestamp": str(int(timezone.now().timestamp())),
        "biz_opaque_callback_data": str(message.pk),
        "errors": [{"code": code, "title": title, "message": title}],
    }
    Chat(message.phone_number).deliver(body)


@pytest.mark.django_db
def test_a_reply_the_policy_refuses_at_enqueue_records_message_failed(number):
    contact = ContactFactory(wa_id="971502230003")  # never wrote: no window
    message = reply_to(contact, number)

    assert message.status == MessageStatus.FAILED
    assert history(f"message:{message.pk}") == [(T.MESSAGE_FAILED, 1)]
    event = last(T.MESSAGE_FAILED, f"message:{message.pk}")
    assert event.business_account == number.business_account
    assert event.data == {
        "id": message.pk,
        "account": number.business_account.waba_id,
        "from": number.graph_id,
        "to": "971502230003",
        "category": "service",
        "purpose": "reply",
        "subject": None,
        "template": None,
        "error": {"code": None, "class": "policy", "detail": message.error_detail, "needs_person": False},
        "failed_at": as_json(message.failed_at),
    }
    assert "window is closed" in message.error_detail


@pytest.mark.django_db
def test_a_refusal_the_caller_answers_itself_stores_no_message_and_records_nothing(number):
    with pytest.raises(policy.PolicyRefusal):
        reply_to(ContactFactory(), number, keep_refusal=False)  # as the REST API asks
    assert not OutboundMessage.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_an_offer_waiting_when_the_customer_opts_out_fails_at_send_time_with_message_failed(number, amal):
    contacts.consent_record(
        contact=amal,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.THREAD,
        recorded_at=timezone.now() - timedelta(minutes=5),
    )
    offer = reply_to(
        amal,
        number,
        category=MessageCategory.MARKETING,
        purpose="cart_recovery",
        content={"type": "text", "text": {"body": "20% off"}},
    )
    assert offer.status == MessageStatus.QUEUED
    contacts.consent_record(
        contact=amal,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.WHATSAPP,
        recorded_at=timezone.now(),
    )
    going, _ = outbox_claim(queue=QUEUE_MARKETING, now=timezone.now())

    assert going == []
    event = last(T.MESSAGE_FAILED, f"message:{offer.pk}")
    assert (event.data["category"], event.data["error"]["class"]) == ("marketing", "policy")
    assert event.data["error"]["detail"].startswith("at send time: no marketing consent")
    assert [e.data["granted"] for e in Event.objects.filter(subject=f"contact:{amal.pk}").order_by("sequence")] == [
        True,
        False,
    ]


@pytest.mark.django_db
def test_a_failed_status_from_meta_records_message_failed_with_metas_code(number):
    message = OutboundMessageFactory(
        phone_number=number,
        status=MessageStatus.SENT,
        wamid="wamid.HBgMOTcxNTAyMjMwMDA0FQIAERgS",
        sent_at=timezone.now(),
    )
    meta_reports_failed(message, 131026, "Message undeliverable")

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    event = last(T.MESSAGE_FAILED, f"message:{message.pk}")
    assert event.data["error"] | {"detail": None} == {
        "code": 131026,
        "class": "recipient",
        "detail": None,
        "needs_person": False,
    }
    assert "Message undeliverable" in event.data["error"]["detail"]


@pytest.mark.django_db
def test_a_message_meta_never_answered_for_is_given_up_by_the_sweep_with_message_failed(number):
    now = timezone.now()
    message = OutboundMessageFactory(phone_number=number, status=MessageStatus.UNKNOWN, next_attempt_at=now)
    outbox_sweep(now=now)

    event = last(T.MESSAGE_FAILED, f"message:{message.pk}")
    assert event.data["error"]["needs_person"] is True
    assert "no status from Meta" in event.data["error"]["detail"]
    outbox_sweep(now=now + timedelta(minutes=1))  # swept again: still one failure
    assert history(f"message:{message.pk}") == [(T.MESSAGE_FAILED, 1)]


@pytest.fixture
def meta_sandbox(transactional_db, settings, live_server):
    """The shop's number at the sandbox over HTTP, no worker: the test drains the outbox itself."""
    return sandbox_shop_wire(settings, live_server)


def test_a_send_meta_refuses_records_message_failed_with_metas_code(meta_sandbox):
    shop = meta_sandbox
    shop.customer_says("971502230005")
    sandbox.config_update(changes={"sync_error_rates": {"131026": 1.0}})
    message = reply_to(shop.contact("971502230005"), shop.number)
    outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    event = last(T.MESSAGE_FAILED, f"message:{message.pk}")
    assert (event.data["error"]["code"], event.data["error"]["class"]) == (131026, "recipient")
    assert event.data["from"] == shop.number.graph_id
