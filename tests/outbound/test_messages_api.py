"""POST /messages queues through the one send path, or refuses and queues nothing; GET shows how it went."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout import signals
from checkout.models import Order, OrderStatus
from conversations.models import Thread, ThreadMessage
from conversations.services import thread_reply
from outbound.models import MessageStatus, OutboundMessage
from templates_lib.models import TemplateStatus
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import paid_order
from tests.outbound.factories import OutboundMessageFactory
from tests.support.messages import PARAMS, PURPOSE, message_shop
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return message_shop()


def send(client, **body):
    return client.post("/api/v1/messages", {"to": "971501230001", **body})


def test_free_form_text_inside_the_window_is_queued_and_kept_in_the_thread(shop, api_client):
    shop.window_open()

    answer = send(api_client, text="Your parcel left the warehouse")

    assert answer.status_code == 202, answer.content
    body = answer.json()
    message = OutboundMessage.objects.get()
    assert body["id"] == message.pk and body["status"] == "queued"
    assert body["decision"] == {"kind": "free_form", "template": None, "language": None, "version": None}
    assert body["category"] == "service" and body["from"] == shop.number.graph_id
    assert message.content == {"type": "text", "text": {"body": "Your parcel left the warehouse"}}
    kept = ThreadMessage.objects.get(outbound=message)
    assert kept.thread.contact == shop.customer and kept.text == "Your parcel left the warehouse"


def test_by_purpose_the_chain_chooses_the_template_and_the_answer_says_which(shop, api_client):
    shop.consent()

    answer = send(api_client, purpose=PURPOSE, parameters=PARAMS)

    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["decision"] == {"kind": "template", "template": "order_shipped", "language": "en_US", "version": 1}
    assert body["category"] == "utility" and body["purpose"] == PURPOSE
    sent = OutboundMessage.objects.get().content["template"]
    assert [p["parameter_name"] for p in sent["components"][0]["parameters"]] == ["customer", "order_id"]


def test_by_template_name_and_language(shop, api_client):
    shop.consent()

    answer = send(api_client, template="order_shipped", language="en_US", parameters=PARAMS)

    assert answer.status_code == 202, answer.content
    assert answer.json()["decision"]["template"] == "order_shipped"
    assert OutboundMessage.objects.get().template_version == 1


def refused(answer, reason: str, pointer: str | None = None):
    assert answer.status_code == 422, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert reason in problem["detail"]
    if pointer:
        assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert not OutboundMessage.objects.exists()
    assert not ThreadMessage.objects.exists()
    return problem


def test_text_with_the_window_closed_is_refused_and_nothing_is_queued(shop, api_client):
    refused(send(api_client, text="Hello?"), "window is closed")


def test_an_opted_out_customer_is_refused(shop, api_client):
    shop.consent()
    shop.consent(action=ConsentAction.OPT_OUT)

    refused(send(api_client, purpose=PURPOSE, parameters=PARAMS), "no utility consent")


def test_a_missing_parameter_is_refused_with_its_name(shop, api_client):
    shop.consent()

    refused(send(api_client, purpose=PURPOSE, parameters={"customer": "Amal"}), "order_id")


def test_an_unknown_template_or_purpose_is_refused_at_its_field(shop, api_client):
    shop.consent()

    refused(send(api_client, template="no_such_template"), "no template", "/template")
    refused(send(api_client, purpose="no_such_purpose"), "no purpose", "/purpose")


def test_a_paused_template_is_refused(shop, api_client):
    shop.consent()
    type(shop.template).objects.filter(pk=shop.template.pk).update(status=TemplateStatus.PAUSED)

    refused(send(api_client, template="order_shipped", parameters=PARAMS), "not sendable")


def test_an_unknown_or_unreadable_customer_is_refused_at_to(shop, api_client):
    refused(send(api_client, to="971509999999", text="hi"), "no customer", "/to")
    refused(send(api_client, to="not a number", text="hi"), "", "/to")


def test_exactly_one_of_purpose_template_and_text(shop, api_client):
    answer = send(api_client, text="hi", purpose=PURPOSE)
    assert answer.status_code == 422
    assert not OutboundMessage.objects.exists()


def test_with_several_numbers_the_sender_must_be_named(shop, api_client):
    other = PhoneNumberFactory(business_account=shop.account)
    contacts.window_touch(contact=shop.customer, phone_number=other, inbound_at=timezone.now())

    refused(send(api_client, text="hi"), "several phone numbers", "/from")
    answer = send(api_client, text="hi", **{"from": other.graph_id})
    assert answer.status_code == 202, answer.content
    assert answer.json()["from"] == other.graph_id


def test_a_number_of_an_account_the_key_may_not_see_is_not_found(shop, api_client_factory):
    elsewhere = message_shop(number=PhoneNumberFactory(), customer=shop.customer)
    elsewhere.window_open()
    client = api_client_factory(scopes=["messages:send"], accounts=[shop.account])

    answer = send(client, text="hi", **{"from": elsewhere.number.graph_id})

    assert answer.status_code == 404
    assert answer.json() == send(client, text="hi", **{"from": "123456789012345"}).json() | {
        "detail": f"no phone number '{elsewhere.number.graph_id}'"
    }
    assert not OutboundMessage.objects.exists()


def test_fields_are_strings_and_query_filters_are_not_blank(shop, api_client):
    shop.window_open()

    assert send(api_client, text="hi", reference=0).status_code == 422
    assert send(api_client, purpose=7).status_code == 422
    assert api_client.get("/api/v1/messages", {"updated_since": ""}).status_code == 422
    assert not OutboundMessage.objects.exists()


def test_the_same_reference_never_queues_twice(shop, api_client):
    shop.window_open()

    first = send(api_client, text="hi", reference="note-1")
    second = send(api_client, text="hi again", reference="note-1")

    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert first.json()["reference"] == "note-1"
    assert OutboundMessage.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(shop, api_client):
    shop.window_open()
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-0001"}

    first = api_client.post("/api/v1/messages", {"to": "971501230001", "text": "hi"}, **headers)
    second = api_client.post("/api/v1/messages", {"to": "971501230001", "text": "hi"}, **headers)

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert OutboundMessage.objects.count() == 1


def test_sending_needs_messages_send_and_reading_needs_messages_read(shop, api_client_factory):
    shop.window_open()
    reader = api_client_factory(scopes=["messages:read"])
    sender = api_client_factory(scopes=["messages:send"])

    assert send(reader, text="hi").status_code == 403
    assert not OutboundMessage.objects.exists()
    queued = send(sender, text="hi")
    assert queued.status_code == 202
    assert sender.get(f"/api/v1/messages/{queued.json()['id']}").status_code == 403
    assert sender.get("/api/v1/messages").status_code == 403
    assert reader.get(f"/api/v1/messages/{queued.json()['id']}").status_code == 200


def test_without_a_key_the_answer_is_401(shop, client):
    answer = client.post("/api/v1/messages", {"to": "971501230001", "text": "hi"}, content_type="application/json")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_message_shows_each_steps_time_and_its_error(shop, api_client):
    failed = OutboundMessageFactory(
        phone_number=shop.number,
        contact=shop.customer,
        status=MessageStatus.FAILED,
        error_code=131026,
        error_class="recipient",
        error_detail="131026 Message undeliverable",
    )

    body = api_client.get(f"/api/v1/messages/{failed.pk}").json()

    assert body["status"] == "failed"
    assert body["error"] == {
        "code": 131026,
        "title": "The recipient cannot receive it",
        "detail": "131026 Message undeliverable",
    }
    assert set(body["times"]) == {"queued", "sent", "delivered", "read", "failed"}
    assert body["times"]["queued"] is not None and body["times"]["delivered"] is None


def test_a_message_shows_the_graph_edge_it_went_to_once_sent(shop, api_client):
    queued = OutboundMessageFactory(phone_number=shop.number, contact=shop.customer)
    marketing = OutboundMessageFactory(
        phone_number=shop.number, contact=shop.customer, status=MessageStatus.SENT, graph_edge="marketing_messages"
    )
    assert api_client.get(f"/api/v1/messages/{queued.pk}").json()["edge"] is None
    assert api_client.get(f"/api/v1/messages/{marketing.pk}").json()["edge"] == "marketing_messages"


def test_messages_of_another_account_are_not_found(shop, api_client_factory):
    theirs = OutboundMessageFactory()  # a number of another account
    mine = OutboundMessageFactory(phone_number=shop.number, contact=shop.customer)
    client = api_client_factory(scopes=["messages:read"], accounts=[shop.account])

    assert client.get(f"/api/v1/messages/{theirs.pk}").status_code == 404
    assert [m["id"] for m in client.get("/api/v1/messages").json()["results"]] == [mine.pk]


def test_the_list_filters_by_customer_and_status(shop, api_client):
    delivered = OutboundMessageFactory(phone_number=shop.number, contact=shop.customer, status="delivered")
    OutboundMessageFactory(phone_number=shop.number, contact=shop.customer, status="queued")
    OutboundMessageFactory(phone_number=shop.number)  # another customer

    page = api_client.get("/api/v1/messages", {"contact": "+971 50 123 0001", "status": "delivered"}).json()

    assert [m["id"] for m in page["results"]] == [delivered.pk]
    assert api_client.get("/api/v1/messages", {"contact": "971509999999"}).json()["results"] == []


def orders_told(order: Order) -> list[int]:
    """The receipt and a "packed" update, queued the way checkout's signals queue them: their ids."""
    before = set(OutboundMessage.objects.values_list("pk", flat=True))
    signals.order_paid.send(sender=Order, order=order)
    signals.order_status_changed.send(
        sender=Order, order=order, old=OrderStatus.PAID, new=OrderStatus.PACKED, cause="api"
    )
    return sorted(set(OutboundMessage.objects.values_list("pk", flat=True)) - before)


def test_an_orders_messages_are_found_by_its_subject_and_no_other_orders(api_client, api_client_factory):
    order = paid_order()
    other = paid_order(contact=order.contact, phone_number=order.phone_number)  # the same customer's next order
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(minutes=1)
    )
    mine, theirs = orders_told(order), orders_told(other)
    thread = Thread.objects.get(contact=order.contact, phone_number=order.phone_number)
    chat = thread_reply(thread=thread, content={"type": "text", "text": {"body": "Hi"}}, text="Hi")
    assert len(mine) == len(theirs) == 2

    def found(client, subject: str) -> list[int]:
        answer = client.get("/api/v1/messages", {"subject": subject})
        assert answer.status_code == 200, answer.content
        return sorted(m["id"] for m in answer.json()["results"])

    assert found(api_client, f"order:{order.reference}") == mine
    assert found(api_client, f"order:{other.reference}") == theirs
    assert found(api_client, f"order:{order.reference[:-1]}") == []  # exact, never a prefix
    assert found(api_client, f"thread:{thread.pk}") == [chat.pk]
    elsewhere = api_client_factory(scopes=["messages:read"], accounts=[PhoneNumberFactory().business_account])
    assert found(elsewhere, f"order:{order.reference}") == []


def test_a_subject_is_type_colon_id(api_client):
    for wrong in ("W0000012", ":W0000012", "Order:W0000012", ""):
        answer = api_client.get("/api/v1/messages", {"subject": wrong})
        assert answer.status_code == 422, wrong
        assert [e["pointer"] for e in answer.json()["errors"]] == ["/subject"]


def test_the_subject_filter_is_documented(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    [subject] = [p for p in schema["paths"]["/api/v1/messages"]["get"]["parameters"] if p["name"] == "subject"]
    assert subject["schema"] == {"type": "string", "pattern": "^[a-z_]+:"}
    assert "`order:<reference>`" in subject["description"]
