"""/api/v1/orders through the HTTP stack (key, scope, problems): read, filter and page orders, name them
with the order system's id, and report fulfilment events (Stripe is the checkout tests' fake here; the
sandbox over HTTP with real workers is test_orders_api_e2e)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import LinkStatus, Order, OrderChange, OrderStatus, Refund
from checkout.stripe_client import StripeTransientError
from outbound.models import OutboundMessage
from tests.checkout.factories import OrderFactory, PaymentLinkFactory, paid_order
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import ThreadFactory
from tests.support.orders import TRACK, in_the_window

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def url(reference: str = "", tail: str = "") -> str:
    return f"/api/v1/orders/{reference}{tail}" if reference else "/api/v1/orders"


@pytest.fixture
def order(stripe):
    """A paid order whose customer wrote an hour ago (updates go free-form)."""
    order = paid_order()
    ThreadFactory(contact=order.contact, phone_number=order.phone_number)
    in_the_window(order)
    return order


def post_event(client, order, **body):
    return client.post(url(order.reference, "/events"), body)


def told(order, status) -> int:
    return OutboundMessage.objects.filter(dedupe_key=f"order_update:{order.pk}:{status}").count()


# --- reading ----------------------------------------------------------------------------


def test_an_order_shows_lines_customer_history_links_and_refunds(api_client, order):
    order.contact.user_id = "US.1349120865"
    order.contact.save(update_fields=["user_id"])
    open_link = PaymentLinkFactory(order=OrderFactory(phone_number=order.phone_number), status=LinkStatus.OPEN)
    api_client.post(url(order.reference, "/events"), {"event": "refunded", "amount_minor": 100_00})

    body = api_client.get(url(order.reference)).json()
    assert (body["reference"], body["status"], body["currency"], body["total_minor"]) == (
        order.reference,
        "refunded",
        "AED",
        640_00,
    )
    assert body["account"] == order.business_account.waba_id
    assert body["lines"] == [
        {"sku": "ABY-M", "name": "Linen Abaya M", "quantity": 2, "unit_price_minor": 320_00, "line_total_minor": 640_00}
    ]
    assert body["customer"] == {"wa_id": order.contact.wa_id, "bsuid": "US.1349120865", "name": "Amal"}
    assert body["paid_at"] and body["external_reference"] == ""
    assert [(c["from_status"], c["to_status"], c["cause"]) for c in body["status_history"]] == [
        ("paid", "refunded", "api")
    ]
    assert body["status_history"][0]["changed_at"]
    [link] = body["payment_links"]
    assert (link["status"], link["url"], link["amount_paid_minor"]) == ("paid", None, 640_00)
    assert [(r["amount_minor"], r["status"]) for r in body["refunds"]] == [(100_00, "succeeded")]

    waiting = api_client.get(url(open_link.order.reference)).json()["payment_links"][0]
    assert waiting["url"].endswith(f"/pay/{open_link.token}/") and waiting["expires_at"]


def test_a_customer_known_only_by_username_shows_the_bsuid_and_the_merchants_name(api_client):
    contact = ContactFactory(wa_id=None, user_id="US.99", profile_name="layla_wa", name="Layla Haddad")
    body = api_client.get(url(OrderFactory(contact=contact).reference)).json()
    assert body["customer"] == {"wa_id": None, "bsuid": "US.99", "name": "Layla Haddad"}


def test_what_cannot_be_a_reference_is_simply_not_found(api_client):
    for reference in ("W%00", "W" * 17, "W-1"):
        answer = api_client.get(url(reference))
        assert answer.status_code == 404 and answer["Content-Type"] == PROBLEM


def test_orders_are_filtered_by_status_updated_since_and_external_reference(api_client):
    pending = OrderFactory()
    paid = paid_order(phone_number=pending.phone_number, external_reference="SHOP-7")
    Order.objects.filter(pk=pending.pk).update(updated_at=timezone.now() - timedelta(days=2))

    def references(**query):
        answer = api_client.get(url(), query)
        assert answer.status_code == 200, answer.content
        return [item["reference"] for item in answer.json()["results"]]

    assert references() == [paid.reference, pending.reference]  # the latest change first
    assert references(status="pending_payment") == [pending.reference]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert references(updated_since=since) == [paid.reference]
    assert references(external_reference="SHOP-7") == [paid.reference]
    assert references(external_reference="SHOP-8") == []


@pytest.mark.parametrize(
    "query",
    [{"status": "lost", "updated_since": "yesterday"}, {"status": "", "updated_since": ""}],
    ids=["wrong", "blank"],
)
def test_a_bad_filter_is_a_problem_pointing_at_it(api_client, query):
    answer = api_client.get(url(), query)
    assert answer.status_code == 422 and answer["Content-Type"] == PROBLEM
    assert {error["pointer"] for error in answer.json()["errors"]} == {"/status", "/updated_since"}


def test_cursor_pages_give_every_order_once(api_client):
    first = OrderFactory()
    made = {first.reference} | {OrderFactory(phone_number=first.phone_number).reference for _ in range(4)}
    seen, page, pages = [], api_client.get(url(), {"limit": 2}).json(), 1
    seen += [item["reference"] for item in page["results"]]
    while page["next"]:
        page, pages = api_client.get(page["next"]).json(), pages + 1
        seen += [item["reference"] for item in page["results"]]
    assert sorted(seen) == sorted(made) and pages == 3


def test_a_list_is_a_few_queries_however_many_orders(api_client, django_assert_max_num_queries):
    first = paid_order()
    for _ in range(5):
        paid_order(phone_number=first.phone_number)
    with django_assert_max_num_queries(12):  # key, rate, page, and one per prefetched relation
        assert len(api_client.get(url()).json()["results"]) == 6


# --- scopes and accounts ----------------------------------------------------------------


def test_no_key_is_401_with_the_bearer_challenge(client, order):
    answer = client.get(url(order.reference))
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("scopes", "method", "path_tail", "body", "expected"),
    [
        (["orders:write"], "get", "", None, 403),
        (["catalog:read"], "get", "", None, 403),
        (["orders:read"], "get", "", None, 200),
        (["orders:read"], "patch", "", {"external_reference": "X"}, 403),
        (["orders:read"], "post", "/events", {"event": "packed"}, 403),
        (["orders:write"], "patch", "", {"external_reference": "X"}, 200),
        (["orders:write"], "post", "/events", {"event": "packed"}, 200),
    ],
)
def test_each_operation_needs_its_scope(api_client_factory, order, scopes, method, path_tail, body, expected):
    client = api_client_factory(scopes=scopes)
    answer = getattr(client, method)(url(order.reference, path_tail), body)
    assert answer.status_code == expected, answer.content
    if expected == 403:
        assert answer["Content-Type"] == PROBLEM
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert client.get(url()).status_code == (200 if "orders:read" in scopes else 403)


def test_a_key_limited_to_another_account_finds_nothing_and_changes_nothing(api_client_factory, order):
    elsewhere = OrderFactory()  # another business account's order
    client = api_client_factory(accounts=[elsewhere.business_account])
    before = Order.objects.values().get(pk=order.pk)
    for answer in (
        client.get(url(order.reference)),
        client.patch(url(order.reference), {"external_reference": "SHOP-1"}),
        client.post(url(order.reference, "/events"), {"event": "cancelled", "reason": "fraud"}),
    ):
        assert answer.status_code == 404 and answer["Content-Type"] == PROBLEM
        assert order.reference not in answer.content.decode()
    assert [item["reference"] for item in client.get(url()).json()["results"]] == [elsewhere.reference]
    assert Order.objects.values().get(pk=order.pk) == before
    assert not OrderChange.objects.filter(order=order).exists() and not Refund.objects.exists()
    assert not OutboundMessage.objects.exists()


# --- PATCH ------------------------------------------------------------------------------


def test_patch_sets_the_external_reference_and_says_whether_it_changed(api_client, order):
    answer = api_client.patch(url(order.reference), {"external_reference": "SHOP-1001"})
    assert answer.status_code == 200
    assert (answer.json()["external_reference"], answer.json()["result"]) == ("SHOP-1001", "updated")
    again = api_client.patch(url(order.reference), {"external_reference": "SHOP-1001"})
    assert again.json()["result"] == "unchanged"
    assert api_client.get(url(), {"external_reference": "SHOP-1001"}).json()["results"][0]["reference"] == (
        order.reference
    )


def test_an_external_reference_another_order_of_the_account_has_is_409(api_client, order):
    other = OrderFactory(phone_number=order.phone_number, external_reference="SHOP-1")
    answer = api_client.patch(url(order.reference), {"external_reference": "SHOP-1"})
    assert answer.status_code == 409 and answer["Content-Type"] == PROBLEM
    assert other.reference in answer.json()["detail"]
    assert Order.objects.get(pk=order.pk).external_reference == ""


def test_a_patch_without_a_valid_external_reference_is_422(api_client, order):
    for body in ({}, {"external_reference": "x" * 101}, {"external_reference": 1001}):
        answer = api_client.patch(url(order.reference), body)
        assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/external_reference"


# --- events -----------------------------------------------------------------------------


def test_packed_then_shipped_move_the_order_and_tell_the_customer(api_client, order):
    packed = post_event(api_client, order, event="packed")
    assert packed.status_code == 200 and (packed.json()["status"], packed.json()["result"]) == ("packed", "applied")
    shipped = post_event(api_client, order, event="shipped", carrier="DHL", tracking_url=TRACK)
    assert (shipped.json()["status"], shipped.json()["carrier"], shipped.json()["tracking_url"]) == (
        "shipped",
        "DHL",
        TRACK,
    )
    assert [c["to_status"] for c in shipped.json()["status_history"]] == ["packed", "shipped"]
    change = OrderChange.objects.filter(order=order).last()
    assert (change.cause, change.detail) == ("api", f"by Test storefront DHL {TRACK}")
    assert (told(order, "packed"), told(order, "shipped")) == (1, 1)


def test_the_same_shipment_twice_is_already_applied_and_told_once(api_client, order):
    post_event(api_client, order, event="packed")
    post_event(api_client, order, event="shipped", carrier="DHL", tracking_url=TRACK)
    again = post_event(api_client, order, event="shipped", carrier="DHL", tracking_url=TRACK)
    assert again.status_code == 200 and again.json()["result"] == "already_applied"
    assert OrderChange.objects.filter(order=order, to_state="shipped").count() == 1 and told(order, "shipped") == 1


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(api_client, order):
    first = api_client.post(url(order.reference, "/events"), {"event": "packed"}, HTTP_IDEMPOTENCY_KEY="pack-1")
    retry = api_client.post(url(order.reference, "/events"), {"event": "packed"}, HTTP_IDEMPOTENCY_KEY="pack-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry.json()["result"] == "applied"
    assert told(order, "packed") == 1


def test_cancelling_a_paid_order_refunds_it_at_stripe_once_however_often_it_is_sent(api_client, order, stripe):
    for result in ("applied", "already_applied"):
        answer = post_event(api_client, order, event="cancelled", reason="the size is sold out")
        assert (answer.status_code, answer.json()["result"], answer.json()["status"]) == (200, result, "refunded")
    assert [amount for _, amount, _ in stripe.refunds] == [640_00]
    assert answer.json()["cancel_reason"] == "the size is sold out"
    assert answer.json()["refunds"][0]["amount_minor"] == 640_00
    assert (told(order, "cancelled"), told(order, "refunded")) == (1, 1)


def test_an_event_the_status_does_not_allow_is_409_and_changes_nothing(api_client, order):
    answer = post_event(api_client, order, event="delivered")
    assert answer.status_code == 409 and answer["Content-Type"] == PROBLEM
    assert answer.json()["detail"] == f"Order {order.reference} is paid: it cannot be delivered."
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID and not OutboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"event": "returned"}, "/event"),
        ({}, "/event"),
        ({"event": {"name": "packed"}}, "/event"),
        ({"event": "shipped", "tracking_url": TRACK}, "/carrier"),
        ({"event": "shipped", "carrier": "DHL", "tracking_url": "ftp://track.example/1"}, "/tracking_url"),
        ({"event": "cancelled"}, "/reason"),
        ({"event": "refunded", "amount_minor": 0}, "/amount_minor"),
        ({"event": "refunded", "amount_minor": "100"}, "/amount_minor"),
        ({"event": "cancelled", "reason": 7}, "/reason"),
    ],
)
def test_an_event_body_with_wrong_details_is_422_pointing_at_them(api_client, order, body, pointer):
    answer = post_event(api_client, order, **body)
    assert answer.status_code == 422 and answer["Content-Type"] == PROBLEM
    assert [error["pointer"] for error in answer.json()["errors"]] == [pointer]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_refund_over_what_was_paid_is_422_from_the_service(api_client, order, stripe):
    answer = post_event(api_client, order, event="refunded", amount_minor=640_01)
    assert answer.status_code == 422 and "At most 640.00 AED can be refunded" in answer.json()["detail"]
    assert stripe.refunds == []


def test_stripe_out_of_reach_is_503_with_retry_after_and_the_retry_refunds_once(api_client, order, stripe):
    stripe.fail = StripeTransientError("APIConnectionError: timed out")
    answer = post_event(api_client, order, event="refunded")
    assert answer.status_code == 503 and answer["Retry-After"] == "30"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert post_event(api_client, order, event="refunded").json()["result"] == "applied"
    assert Refund.objects.get().amount_minor == 640_00 and stripe.refunds[0][2] == stripe.refunds[1][2]


# --- documentation ----------------------------------------------------------------------


def test_the_schema_documents_each_orders_operation_with_an_example_and_the_event_union(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = [
        schema["paths"]["/api/v1/orders"]["get"],
        schema["paths"]["/api/v1/orders/{reference}"]["get"],
        schema["paths"]["/api/v1/orders/{reference}"]["patch"],
        schema["paths"]["/api/v1/orders/{reference}/events"]["post"],
    ]
    for operation in operations:
        assert operation["tags"] == ["orders"] and operation["summary"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
    union = schema["components"]["schemas"]["OrderEventRequest"]
    assert union["discriminator"]["propertyName"] == "event"
    assert set(union["discriminator"]["mapping"]) == {
        "packed",
        "shipped",
        "out_for_delivery",
        "delivered",
        "cancelled",
        "refunded",
    }
    shipped = schema["components"]["schemas"]["ShippedEventRequest"]
    assert set(shipped["required"]) == {"event", "carrier", "tracking_url"}
