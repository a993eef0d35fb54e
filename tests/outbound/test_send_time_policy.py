"""Consent and the window are decided again when a drain claims a message, not only at enqueue:
what changed while a message waited reaches the sandbox as no call, or as a template."""

import json
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbound import sending, services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage, SendAttempt
from tests.outbound.factories import OutboundMessageFactory
from tests.support.sandbox_shop import ORDER_UPDATE_PARAMS, approved_chain
from tests.support.shopper import Shopper
from tests.support.webhooks import signed_headers
from tests.workers import wait_until
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource, ServiceWindow
from waco.sandbox import services as sandbox

CUSTOMER = "971501230077"
OFFER = {"type": "text", "text": {"body": "20% off abayas this weekend"}}
REPLY = {"type": "text", "text": {"body": "Your size M is on its way back in stock"}}
ring = services.outbox_ring  # the real doorbell, kept before a test silences the one enqueue uses


@pytest.fixture
def waiting(worker_shop, monkeypatch):
    """The customer has written (the window is open); what we enqueue now waits until we ring."""
    Shopper(worker_shop, CUSTOMER).says("hi")
    monkeypatch.setattr(services, "outbox_ring", lambda *args, **kwargs: None)
    return worker_shop


def calls_for(message) -> list[dict]:
    """The sandbox's record of the Graph calls that carried this message."""
    items = sandbox.outbox_list(config=sandbox.config_get(), to=CUSTOMER)
    return [item for item in items if item.get("biz_opaque_callback_data") == str(message.pk)]


def opted_in(shop, category):
    # A minute ago: the opt-out's time (Meta's, in whole seconds) must come after it.
    contacts.consent_record(
        contact=shop.contact(CUSTOMER),
        category=category,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=timezone.now() - timedelta(minutes=1),
    )


def settled(message) -> OutboundMessage:
    def done():
        message.refresh_from_db()
        return message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING)

    wait_until(done, timeout=30, message=f"message {message.pk} to be decided")
    return message


def says_stop_in_the_chat(shop):
    Shopper(shop, CUSTOMER).says("stop")


def stops_marketing_in_whatsapp_settings(shop):
    """Meta's user_preferences webhook, posted signed to Waco as Meta would; the worker applies it."""
    number = shop.number
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": number.display_phone_number, "phone_number_id": number.graph_id},
        "contacts": [{"profile": {"name": "Amal"}, "wa_id": CUSTOMER}],
        "user_preferences": [
            {
                "wa_id": CUSTOMER,
                "category": "marketing_messages",
                "value": "stop",
                "detail": "User requested to stop marketing messages",
                "timestamp": int(time.time()),
            }
        ],
    }
    change = {"field": "user_preferences", "value": value}
    body = json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": number.business_account.waba_id, "changes": [change]}]}
    ).encode()
    headers = {
        "X-Hub-Signature-256": signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"],
        "Content-Type": "application/json",
    }
    answer = requests.post(f"{shop.live_url}/webhooks/whatsapp/", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200


def opted_out_by_staff_or_api(shop):
    contacts.consent_record(
        contact=shop.contact(CUSTOMER),
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.ADMIN,
        recorded_at=timezone.now(),
    )


@pytest.mark.worker
@pytest.mark.parametrize(
    "opt_out", [says_stop_in_the_chat, stops_marketing_in_whatsapp_settings, opted_out_by_staff_or_api]
)
def test_an_opt_out_while_an_offer_waits_means_no_call_for_it(waiting, opt_out):
    opted_in(waiting, ConsentCategory.MARKETING)
    offer = services.message_enqueue(
        phone_number=waiting.number,
        contact=waiting.contact(CUSTOMER),
        category=MessageCategory.MARKETING,
        purpose="promotion",
        content=OFFER,
    )
    assert offer.status == MessageStatus.QUEUED  # consent held when it was enqueued

    opt_out(waiting)
    wait_until(lambda: ConsentEntry.objects.filter(action=ConsentAction.OPT_OUT).exists(), message="the opt-out")
    ring(QUEUE_MARKETING, force=True)

    settled(offer)
    assert (offer.status, offer.error_class) == (MessageStatus.FAILED, "policy")
    assert "no marketing consent" in offer.error_detail
    assert calls_for(offer) == [] and not SendAttempt.objects.filter(message=offer).exists()


def close_the_window(shop):
    ServiceWindow.objects.filter(contact=shop.contact(CUSTOMER)).update(
        last_inbound_at=F("last_inbound_at") - timedelta(hours=24, minutes=1)
    )


@pytest.mark.worker
def test_a_reply_that_waited_past_the_window_is_refused_before_any_call(waiting):
    reply = services.message_enqueue(
        phone_number=waiting.number,
        contact=waiting.contact(CUSTOMER),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content=REPLY,
    )
    assert (reply.status, reply.template_name) == (MessageStatus.QUEUED, "")

    close_the_window(waiting)
    ring(QUEUE_SERVICE, force=True)

    settled(reply)
    assert (reply.status, reply.error_class) == (MessageStatus.FAILED, "policy")
    assert "window is closed" in reply.error_detail
    assert calls_for(reply) == []


@pytest.mark.worker
def test_an_update_that_waited_past_the_window_goes_as_its_purposes_template(waiting):
    sandbox.config_update(changes={"template_review_delay_seconds": 0})
    opted_in(waiting, ConsentCategory.UTILITY)
    [template] = approved_chain(waiting, "order_update_v1")
    update = services.message_enqueue(
        phone_number=waiting.number,
        contact=waiting.contact(CUSTOMER),
        category=MessageCategory.UTILITY,
        purpose="order_update",
        content=REPLY,
        template_params=ORDER_UPDATE_PARAMS,
    )
    assert (update.status, update.template_name) == (MessageStatus.QUEUED, "")  # free-form in the window

    close_the_window(waiting)
    ring(QUEUE_SERVICE, force=True)

    settled(update)
    assert update.status != MessageStatus.FAILED, update.error_detail
    assert update.template_name == template.name
    assert [call["type"] for call in calls_for(update)] == ["template"]


# --- one query for the batch's facts -------------------------------------------------------


def claimed_batch(size: int, number) -> None:
    """`size` due messages of each kind the re-check meets: a reply in the window, an update
    to a customer who opted out of updates, a reply whose window closed while it waited."""
    now = timezone.now()
    for n in range(size):
        kind = n % 3
        message = OutboundMessageFactory(
            phone_number=number,
            category=MessageCategory.UTILITY if kind == 1 else MessageCategory.SERVICE,
            template_name="order_update_v1" if kind == 1 else "",
        )
        contacts.window_touch(
            contact=message.contact, phone_number=number, inbound_at=now - timedelta(hours=25 if kind == 2 else 1)
        )
        contacts.consent_record(
            contact=message.contact,
            category=ConsentCategory.UTILITY,
            action=ConsentAction.OPT_OUT,
            source=ConsentSource.THREAD,
            recorded_at=now,
        )


def test_the_claim_reads_consent_and_windows_for_the_whole_batch_in_one_query(db):
    from tests.channels.factories import PhoneNumberFactory

    counts = {}
    for size in (3, 30):
        OutboundMessage.objects.update(status=MessageStatus.FAILED)  # the last round's are out of the way
        number = PhoneNumberFactory(throughput_mps=1000)  # a burst of 50: the whole batch is granted
        claimed_batch(size, number)
        with CaptureQueriesContext(connection) as queries:
            going, _ = sending.outbox_claim(queue=QUEUE_SERVICE, now=timezone.now())
        counts[size] = len(queries)
        assert len(going) == size // 3  # the replies in the window
        refused = OutboundMessage.objects.filter(phone_number=number, status=MessageStatus.FAILED, error_class="policy")
        assert sorted(set(refused.values_list("error_detail", flat=True))) == [
            "at send time: no utility consent for a business-initiated message",
            "at send time: the service window is closed and a service reply has no template",
        ]
        assert refused.count() == size - size // 3

    assert counts[3] == counts[30] <= 10, counts


# --- the admin's re-send goes through the same policy ------------------------------------------


def test_a_re_send_is_decided_again_by_the_policy(db):
    now = timezone.now()
    stopped, welcome = (
        OutboundMessageFactory(
            category=MessageCategory.MARKETING,
            purpose="promotion",
            content=OFFER,
            status=MessageStatus.FAILED,
            needs_person=True,
            attempts=10,
        )
        for _ in range(2)
    )
    for message, action in ((stopped, ConsentAction.OPT_OUT), (welcome, ConsentAction.OPT_IN)):
        contacts.window_touch(contact=message.contact, phone_number=message.phone_number, inbound_at=now)
        contacts.consent_record(
            contact=message.contact,
            category=ConsentCategory.MARKETING,
            action=action,
            source=ConsentSource.ADMIN,
            recorded_at=now,
        )

    result = services.messages_resend(messages=OutboundMessage.objects.all(), now=now)

    assert (result.queued, result.refused) == (1, 1)
    stopped.refresh_from_db()
    welcome.refresh_from_db()
    assert (stopped.status, stopped.error_detail) == (
        MessageStatus.FAILED,
        "re-send refused: no marketing consent: the customer has not opted in, or opted out",
    )
    assert (welcome.status, welcome.attempts, welcome.needs_person, welcome.content) == (
        MessageStatus.QUEUED,
        0,
        False,
        OFFER,
    )
