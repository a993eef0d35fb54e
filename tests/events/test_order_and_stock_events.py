"""Order and stock events from their real causes: placing, paying, expiring, fulfilling,
cancelling and refunding an order (order.*), reserving and releasing its stock (stock.*). Each
event counts up per subject; a change refused or rolled back writes no event and no sequence number."""

import dataclasses

import pytest
from django.db import transaction

from checkout import payments, stripe_client
from checkout.fulfilment import FulfilmentNotAllowed
from checkout.models import Order
from checkout.services import CheckoutRefusal, WantedLine, order_place
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.checkout.factories import place
from tests.support.events import amal, as_json, history, last, number, staff  # noqa: F401  (amal, number: fixtures)
from waco.events.models import Event, EventType, SubjectSequence

T = EventType
TRACK = "https://track.example/DHL123"


def statuses(order: Order) -> list[str]:
    """The order's status as each of its events says it, in sequence order."""
    return [e.data["status"] for e in Event.objects.filter(subject=f"order:{order.reference}").order_by("sequence")]


class StripeStandIn:
    """Stripe's answers in-process (the worker test uses the sandbox's Stripe over HTTP): a session
    opens when the link is issued, the customer pays it or lets it run out, refunds succeed."""

    def __init__(self):
        self.sessions: dict[str, stripe_client.CheckoutSession] = {}

    def checkout_session_create(self, *, order_ref, line_items, currency, expires_at, **_):
        session_id = f"cs_test_{order_ref}"
        self.sessions[session_id] = stripe_client.CheckoutSession(
            id=session_id,
            url=f"https://checkout.stripe.test/{session_id}",
            status="open",
            payment_status="unpaid",
            expires_at=expires_at,
            amount_total=sum(item.unit_amount * item.quantity for item in line_items),
            currency=currency.lower(),
        )
        return self.sessions[session_id]

    def checkout_session_retrieve(self, session_id, *, with_intent_status=False):
        return self.sessions[session_id]

    def checkout_session_expire(self, session_id):
        if self.sessions[session_id].status == "open":
            self._set(session_id, status="expired", url=None)
        return self.sessions[session_id]

    def refund_create(self, *, payment_intent_id, amount, idempotency_key):
        return stripe_client.Refund(
            id=f"re_{idempotency_key}",
            amount=amount,
            currency="aed",
            status="succeeded",
            payment_intent_id=payment_intent_id,
        )

    def customer_pays(self, link) -> str:
        """The card goes through and checkout.session.completed reaches Waco, which re-reads the session."""
        self._set(link.stripe_session_id, status="complete", payment_status="paid", payment_intent_id=f"pi_{link.pk}")
        return payments.payment_reconcile(link=link, event_type="checkout.session.completed")

    def session_runs_out(self, link) -> str:
        """Nobody paid: the session expires and checkout.session.expired reaches Waco."""
        self._set(link.stripe_session_id, status="expired", url=None)
        return payments.payment_reconcile(link=link, event_type="checkout.session.expired")

    def _set(self, session_id, **changes) -> None:
        self.sessions[session_id] = dataclasses.replace(self.sessions[session_id], **changes)


@pytest.fixture
def stripe(monkeypatch):
    stand_in = StripeStandIn()
    for name in ("checkout_session_create", "checkout_session_retrieve", "checkout_session_expire", "refund_create"):
        monkeypatch.setattr(stripe_client, name, getattr(stand_in, name))
    return stand_in


@pytest.fixture
def abaya(number):
    """The linen abaya in M: four in stock at 320.00 AED."""
    category = CategoryFactory(business_account=number.business_account, name="Abayas")
    product = ProductFactory(category=category, name="Linen Abaya")
    return VariantFactory(product=product, sku="ABY-M", attributes={"size": "M"}, price_minor=320_00, on_hand=4)


def placed(variant, contact, number, quantity=2):
    """An order placed as checkout places one, its payment link issued at Stripe: (order, link)."""
    order, link = place(variant, quantity, contact=contact, number=number)
    payments.payment_link_issue(link_id=link.pk)
    link.refresh_from_db()
    return order, link


def paid(variant, contact, number, stripe) -> Order:
    order, link = placed(variant, contact, number)
    assert stripe.customer_pays(link) == "paid"
    return Order.objects.get(pk=order.pk)


@pytest.mark.django_db
def test_placing_an_order_records_order_created_and_stock_reserved_per_variant_with_sku_quoted(number, abaya, amal):
    large = VariantFactory(product=abaya.product, sku="ABY L/2", attributes={"size": "L"}, price_minor=340_00)
    order, _ = order_place(
        contact=amal,
        phone_number=number,
        lines=[WantedLine(abaya, 2), WantedLine(large, 1)],
        seen_total_minor=980_00,
    )

    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1)]
    created = last(T.ORDER_CREATED, f"order:{order.reference}")
    assert created.business_account == number.business_account
    assert created.data == {
        "reference": order.reference,
        "external_reference": None,
        "account": number.business_account.waba_id,
        "status": "pending_payment",
        "currency": "AED",
        "total_minor": 980_00,
        "refunded_minor": 0,
        "paid_at": None,
        "customer": {"wa_id": "971502230001", "user_id": amal.user_id},
        "lines": [
            {
                "sku": "ABY-M",
                "name": "Linen Abaya M",
                "quantity": 2,
                "unit_price_minor": 320_00,
                "line_total_minor": 640_00,
            },
            {
                "sku": "ABY L/2",
                "name": "Linen Abaya L",
                "quantity": 1,
                "unit_price_minor": 340_00,
                "line_total_minor": 340_00,
            },
        ],
        "carrier": None,
        "tracking_url": None,
        "cancel_reason": None,
    }
    holder = f"order:{order.reference}"
    assert last(T.STOCK_RESERVED, "variant:ABY-M").data == {
        "sku": "ABY-M",
        "account": number.business_account.waba_id,
        "quantity": 2,
        "holder": holder,
        "sold": False,
        "on_hand": 4,
        "available": 2,
    }
    reserved_l = last(T.STOCK_RESERVED, "variant:ABY%20L%2F2")  # a subject holds no space: the SKU is quoted
    assert (reserved_l.data["sku"], reserved_l.data["quantity"], reserved_l.data["available"]) == ("ABY L/2", 1, 4)


@pytest.mark.django_db
def test_the_first_order_consents_to_updates_once_and_a_second_order_counts_on_the_variant(number, abaya, amal):
    first, _ = place(abaya, 2, contact=amal, number=number)
    second, _ = place(abaya, 2, contact=amal, number=number)

    [consent] = Event.objects.filter(type=T.CONSENT_CHANGED)
    assert consent.subject == f"contact:{amal.pk}"
    assert consent.data == {
        "contact": {"id": amal.pk, "wa_id": "971502230001", "user_id": amal.user_id},
        "category": "utility",
        "granted": True,
        "action": "opt_in",
        "source": "checkout",
        "reference": f"order:{first.reference}",
        "recorded_at": as_json(amal.consent_entries.order_by("pk").first().recorded_at),
    }
    assert history("variant:ABY-M") == [(T.STOCK_RESERVED, 1), (T.STOCK_RESERVED, 2)]
    assert [e.data["holder"] for e in Event.objects.filter(subject="variant:ABY-M").order_by("sequence")] == [
        f"order:{first.reference}",
        f"order:{second.reference}",
    ]
    assert last(T.STOCK_RESERVED, "variant:ABY-M").data["available"] == 0


@pytest.mark.django_db
def test_a_paid_order_records_order_paid_with_when_it_was_paid(number, abaya, amal, stripe):
    order = paid(abaya, amal, number, stripe)

    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1), (T.ORDER_PAID, 2)]
    event = last(T.ORDER_PAID, f"order:{order.reference}")
    assert (event.data["status"], event.data["total_minor"]) == ("paid", 640_00)
    assert event.data["paid_at"] == as_json(order.paid_at)
    # Selling what the order held is not a new reservation: the variant heard only of the hold.
    assert history("variant:ABY-M") == [(T.STOCK_RESERVED, 1)]


@pytest.mark.django_db
def test_a_link_that_runs_out_releases_the_stock_then_expires_the_order(number, abaya, amal, stripe):
    order, link = placed(abaya, amal, number)
    stripe.session_runs_out(link)

    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1), (T.ORDER_EXPIRED, 2)]
    assert statuses(order) == ["pending_payment", "expired"]
    assert history("variant:ABY-M") == [(T.STOCK_RESERVED, 1), (T.STOCK_RELEASED, 2)]
    released = last(T.STOCK_RELEASED, "variant:ABY-M")
    assert (released.data["quantity"], released.data["holder"], released.data["available"]) == (
        2,
        f"order:{order.reference}",
        4,
    )


@pytest.mark.django_db
def test_each_fulfilment_step_records_order_fulfilment_updated_then_a_refund_order_refunded(
    number, abaya, amal, stripe
):
    order = paid(abaya, amal, number, stripe)
    staff(order, "packed")
    staff(order, "shipped", carrier="DHL", tracking_url=TRACK)
    staff(order, "out_for_delivery")
    staff(order, "delivered")
    staff(order, "refunded", reason="the seam came apart")

    assert history(f"order:{order.reference}") == [
        (T.ORDER_CREATED, 1),
        (T.ORDER_PAID, 2),
        (T.ORDER_FULFILMENT_UPDATED, 3),
        (T.ORDER_FULFILMENT_UPDATED, 4),
        (T.ORDER_FULFILMENT_UPDATED, 5),
        (T.ORDER_FULFILMENT_UPDATED, 6),
        (T.ORDER_REFUNDED, 7),
    ]
    assert statuses(order) == [
        "pending_payment",
        "paid",
        "packed",
        "shipped",
        "out_for_delivery",
        "delivered",
        "refunded",
    ]
    shipped = Event.objects.get(subject=f"order:{order.reference}", sequence=4)
    assert (shipped.data["carrier"], shipped.data["tracking_url"]) == ("DHL", TRACK)
    assert last(T.ORDER_REFUNDED, f"order:{order.reference}").data["refunded_minor"] == 640_00


@pytest.mark.django_db
def test_cancelling_a_paid_order_records_order_cancelled_with_its_reason_then_order_refunded(
    number, abaya, amal, stripe
):
    order = paid(abaya, amal, number, stripe)
    staff(order, "cancelled", reason="the size is sold out")

    assert history(f"order:{order.reference}")[2:] == [(T.ORDER_CANCELLED, 3), (T.ORDER_REFUNDED, 4)]
    cancelled = last(T.ORDER_CANCELLED, f"order:{order.reference}")
    assert (cancelled.data["status"], cancelled.data["cancel_reason"]) == ("cancelled", "the size is sold out")
    assert last(T.ORDER_REFUNDED, f"order:{order.reference}").data["refunded_minor"] == 640_00


@pytest.mark.django_db
def test_cancelling_an_unpaid_order_records_order_cancelled_and_stock_released(number, abaya, amal, stripe):
    order, _ = placed(abaya, amal, number)
    staff(order, "cancelled", reason="the customer called to cancel")

    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1), (T.ORDER_CANCELLED, 2)]
    assert history("variant:ABY-M") == [(T.STOCK_RESERVED, 1), (T.STOCK_RELEASED, 2)]
    assert last(T.STOCK_RELEASED, "variant:ABY-M").data["available"] == 4


@pytest.mark.django_db
def test_a_refused_status_change_or_a_repeated_payment_records_nothing(number, abaya, amal, stripe):
    order, link = placed(abaya, amal, number)
    with pytest.raises(FulfilmentNotAllowed):
        staff(order, "packed")  # nothing is packed before it is paid
    assert stripe.customer_pays(link) == "paid"
    assert stripe.customer_pays(link) == "already paid"  # Stripe's event, delivered twice
    with pytest.raises(FulfilmentNotAllowed):
        staff(order, "shipped", carrier="DHL", tracking_url=TRACK)  # not packed yet

    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1), (T.ORDER_PAID, 2)]


@pytest.mark.django_db
def test_a_change_rolled_back_takes_its_event_and_its_sequence_number_with_it(number, abaya, amal, stripe):
    order = paid(abaya, amal, number, stripe)
    with pytest.raises(RuntimeError), transaction.atomic():
        staff(order, "packed")
        raise RuntimeError("the admin's request failed after the change")
    assert history(f"order:{order.reference}") == [(T.ORDER_CREATED, 1), (T.ORDER_PAID, 2)]

    staff(order, "packed")
    assert history(f"order:{order.reference}")[-1] == (T.ORDER_FULFILMENT_UPDATED, 3)


@pytest.mark.django_db
def test_a_checkout_refused_for_stock_records_nothing_not_even_a_sequence_number(number, abaya, amal):
    with pytest.raises(CheckoutRefusal, match="not enough stock"):
        place(abaya, 5, contact=amal, number=number)
    assert not Event.objects.exists() and not SubjectSequence.objects.exists()

    place(abaya, 4, contact=amal, number=number)
    assert history("variant:ABY-M") == [(T.STOCK_RESERVED, 1)]
