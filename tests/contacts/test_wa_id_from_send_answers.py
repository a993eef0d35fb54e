"""Meta answers a send to a Brazilian or Mexican number with another wa_id: the contact takes it,
so the customer's reply lands on the same contact and thread, and the storefront's number still
finds that contact."""

import copy
import itertools
import json

import pytest
import responses
from django.utils import timezone

from checkout.models import Order
from conversations.models import Thread
from outbound import sending
from outbound import services as outbound
from outbound.models import MessageCategory, MessageStatus
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import OrderFactory
from tests.contacts.factories import ContactFactory
from tests.support.payloads import webhook
from waco.alerts.models import Alert
from waco.celery_config import QUEUE_SERVICE
from waco.contacts import services
from waco.contacts.models import ConsentEntry, Contact, ContactAlias, ServiceWindow
from waco.contacts.wa_ids import SendAnswer, wa_ids_from_send_answers
from waco.ingest import services as ingest
from waco.ingest.models import Delivery, DeliverySource

pytestmark = pytest.mark.django_db

BASE, VERSION = "https://graph.example.test", "v24.0"
AS_SOLD = "+55 11 98765-4321"  # the storefront's number, with Brazil's ninth digit
SENT_TO = "5511987654321"
META_WA_ID = "551187654321"  # the account as Meta knows it, registered before the ninth digit


@pytest.fixture
def graph(settings, monkeypatch):
    settings.WACO_GRAPH_API_BASE, settings.WACO_GRAPH_API_VERSION = BASE, VERSION
    monkeypatch.setattr(outbound, "outbox_ring", lambda *args, **kwargs: None)  # the test drains
    with responses.RequestsMock() as mock:
        yield mock


def meta_answers(graph, number, *, wa_id=META_WA_ID):
    """Meta's send answer (docs/cloud-api.md, Sending): contacts[] names `to` as input, and Meta's wa_id."""
    wamids = itertools.count(1)

    def answer(request):
        to = json.loads(request.body)["to"]
        body = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id if to == SENT_TO else to}],
            "messages": [{"id": f"wamid.HBgNNTUxMTg3NjU0MzIxFQIAERgS{next(wamids)}", "message_status": "accepted"}],
        }
        return 200, {}, json.dumps(body)

    graph.add_callback(responses.POST, f"{BASE}/{VERSION}/{number.graph_id}/messages", callback=answer)


def send_to(contact, number):
    services.window_touch(contact=contact, phone_number=number, inbound_at=timezone.now())  # a free-form reply
    message = outbound.message_enqueue(
        phone_number=number,
        contact=contact,
        category=MessageCategory.SERVICE,
        purpose="reply",
        content={"type": "text", "text": {"body": "Your order is ready"}},
    )
    sending.outbox_drain(queue=QUEUE_SERVICE)  # with the bot's replies to what the customer wrote
    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED
    return message


def customer_writes(number, *, wa_id, wamid):
    """pywa's real text message delivery, from this customer to this number."""
    body = copy.deepcopy(webhook("pywa__message__text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = number.graph_id
    value["contacts"] = [{"profile": {"name": "Rafael"}, "wa_id": wa_id}]
    value["messages"][0].update({"from": wa_id, "id": wamid, "timestamp": str(int(timezone.now().timestamp()))})
    now = timezone.now()
    delivery = Delivery.objects.create(
        source=DeliverySource.META, body=json.dumps(body), headers={}, received_at=now, next_attempt_at=now
    )
    assert ingest.delivery_process(delivery_id=delivery.pk).failed == 0


def test_the_contact_takes_meta_wa_id_and_the_reply_lands_on_it(graph):
    number = PhoneNumberFactory()
    contact = services.contact_for_api(AS_SOLD, create=True)
    assert contact.wa_id == SENT_TO
    meta_answers(graph, number)

    message = send_to(contact, number)
    customer_writes(number, wa_id=META_WA_ID, wamid="wamid.reply")

    contact.refresh_from_db()
    assert contact.wa_id == META_WA_ID
    assert Contact.objects.count() == 1
    assert ContactAlias.objects.get(wa_id=SENT_TO).contact == contact
    assert Thread.objects.get(phone_number=number).contact == contact
    assert ServiceWindow.objects.get().contact == contact
    assert message.recipient == SENT_TO  # the message keeps the number it went to
    assert services.contact_for_api(AS_SOLD) == contact
    assert services.contact_for_api(SENT_TO) == contact
    assert services.contact_for_api(META_WA_ID) == contact


def test_a_contact_already_holding_meta_wa_id_absorbs_the_storefront_one(graph):
    number = PhoneNumberFactory()
    customer_writes(number, wa_id=META_WA_ID, wamid="wamid.first")  # wrote before the storefront named them
    holder = Contact.objects.get(wa_id=META_WA_ID)
    named = services.contact_for_api(AS_SOLD, create=True)
    named.name, named.tags, named.attributes = "Rafael Souza", ["vip"], {"tier": "gold"}
    named.save()
    services.consent_record(
        contact=named, category="marketing", action="opt_in", source="api", recorded_at=timezone.now()
    )
    meta_answers(graph, number)

    message = send_to(named, number)

    assert list(Contact.objects.all()) == [holder]
    holder.refresh_from_db()
    assert (holder.name, holder.tags, holder.attributes) == ("Rafael Souza", ["vip"], {"tier": "gold"})
    assert holder.profile_name == "Rafael"  # what WhatsApp says stays
    assert ConsentEntry.objects.get().contact == holder
    message.refresh_from_db()
    assert message.contact == holder
    assert Thread.objects.get(phone_number=number).contact == holder
    assert services.contact_for_api(AS_SOLD) == holder


def test_the_holder_own_details_win_and_tags_join():
    holder = ContactFactory(wa_id=META_WA_ID, name="Rafa", tags=["repeat"], attributes={"tier": "silver"})
    named = ContactFactory(wa_id=SENT_TO, name="Rafael", tags=["vip", "repeat"], attributes={"tier": "gold", "x": 1})

    wa_ids_from_send_answers([SendAnswer(contact_id=named.pk, sent_to=SENT_TO, wa_id=META_WA_ID)])

    holder.refresh_from_db()
    assert (holder.name, holder.tags, holder.attributes) == ("Rafa", ["repeat", "vip"], {"tier": "silver", "x": 1})
    assert not Contact.objects.filter(pk=named.pk).exists()


def test_two_whatsapp_accounts_never_merge_and_staff_hear_of_it():
    holder = ContactFactory(wa_id=META_WA_ID, user_id="BR.1")
    named = ContactFactory(wa_id=SENT_TO, user_id="BR.2")

    wa_ids_from_send_answers([SendAnswer(contact_id=named.pk, sent_to=SENT_TO, wa_id=META_WA_ID)])

    assert Contact.objects.count() == 2
    assert Contact.objects.get(pk=named.pk).wa_id == SENT_TO and not ContactAlias.objects.exists()
    assert Alert.objects.get(kind="contact_wa_id_conflict").subject == f"wa_id {META_WA_ID}"
    assert Contact.objects.get(pk=holder.pk).wa_id == META_WA_ID


def test_a_merge_that_would_orphan_an_order_changes_nothing_and_alerts():
    ContactFactory(wa_id=META_WA_ID)
    named = ContactFactory(wa_id=SENT_TO, name="Rafael")
    order = OrderFactory(contact=named)

    wa_ids_from_send_answers([SendAnswer(contact_id=named.pk, sent_to=SENT_TO, wa_id=META_WA_ID)])

    assert Contact.objects.count() == 2 and Order.objects.get(pk=order.pk).contact_id == named.pk
    assert Alert.objects.filter(kind="contact_wa_id_conflict").exists()


@pytest.mark.parametrize(
    "answer",
    [
        SendAnswer(contact_id=0, sent_to=SENT_TO, wa_id=SENT_TO),  # the usual answer: the same number
        SendAnswer(contact_id=0, sent_to=SENT_TO, wa_id=None),  # no wa_id in the answer
        SendAnswer(contact_id=0, sent_to="US.1349", wa_id=None),  # a BSUID send: Meta names user_id only
    ],
)
def test_an_answer_naming_the_number_sent_changes_nothing(answer, django_assert_num_queries):
    contact = ContactFactory(wa_id=SENT_TO)

    with django_assert_num_queries(0):
        wa_ids_from_send_answers([SendAnswer(contact.pk, answer.sent_to, answer.wa_id)])

    contact.refresh_from_db()
    assert contact.wa_id == SENT_TO and not ContactAlias.objects.exists()


def test_mexico_1_after_52_is_learned_the_same_way():
    contact = services.contact_for_api("+52 55 1234 5678", create=True)

    wa_ids_from_send_answers([SendAnswer(contact_id=contact.pk, sent_to="525512345678", wa_id="5215512345678")])

    assert services.contact_for_api("+52 55 1234 5678").wa_id == "5215512345678"
    assert services.contact_for_api("5215512345678") == services.contact_for_api("525512345678")
