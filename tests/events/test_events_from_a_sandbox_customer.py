"""Every event type from sandbox customers, end to end with real workers: a local receiver
verifies each body with the `standardwebhooks` package and finds each subject's events in sequence."""

import pytest

from outbound.models import OutboundMessage
from tests.support.checkout_e2e import checkout, receipts, stripe_events_delivered
from tests.support.drain import wait_drained
from tests.support.events import WORKER_ENV, endpoint_to, staff, worker_settings
from tests.support.receiver import EventReceiver
from tests.support.sandbox_shop import sandbox_shop_open
from tests.support.shopper import Shopper, text_of
from tests.workers import wait_until
from waco.events.models import Event, EventType
from waco.sandbox import services as sandbox
from waco.sandbox.stripe.payments import session_leave, session_pay_card

T = EventType


@pytest.fixture
def shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    """A shop on the sandbox (Meta and Stripe over HTTP) with a real worker that may post events to loopback."""
    worker_settings(settings)
    shop = sandbox_shop_open(settings, live_server, tmp_path, env=WORKER_ENV)
    yield shop
    shop.close()


def said(shopper, words: str):
    return next((item for item in shopper.outbox() if words in text_of(item)), None)


@pytest.mark.worker
def test_a_sandbox_customers_orders_reach_the_merchant_as_every_event_type_signed_and_in_sequence(shop):
    with EventReceiver() as receiver:
        _, secret = endpoint_to(receiver.url)

        amal = Shopper(shop, "971502240101")
        order, link, _ = checkout(shop, amal)  # order.created, stock.reserved, consent.changed (utility)
        session_pay_card(session_id=link.stripe_session_id)
        stripe_events_delivered()
        wait_until(lambda: receipts(amal), message="the receipt")  # order.paid
        amal.says("agent")  # thread.handoff_requested
        staff(order, "packed")  # order.fulfilment_updated
        staff(order, "cancelled", reason="the size is sold out")  # order.cancelled, order.refunded (sandbox Stripe)

        huda = Shopper(shop, "971502240102", name="Huda")
        unpaid, unpaid_link, _ = checkout(shop, huda)
        session_leave(session_id=unpaid_link.stripe_session_id)
        stripe_events_delivered()
        wait_until(lambda: said(huda, "has expired"), message="the expiry told")  # order.expired, stock.released
        huda.says("stop")  # consent.changed (marketing)
        wait_drained()

        sandbox.config_update(changes={"sync_error_rates": {"131026": 1.0}})
        huda.send({"type": "text", "text": {"body": "hi"}})  # the menu goes out and Meta refuses it
        wait_until(
            lambda: OutboundMessage.objects.filter(recipient=huda.wa_id, error_code=131026).first(),
            message="the refused send",
        )  # message.failed
        wait_drained(timeout=60)
        events = list(Event.objects.order_by("subject", "sequence"))
        receiver.wait_for(len(events))

    arrived = {r.headers["webhook-id"]: r for r in receiver.accepted()}  # at least once: dedupe on webhook-id
    verified = {event_id: r.verify(secret) for event_id, r in arrived.items()}
    assert set(verified) == {e.id for e in events}
    assert all(arrived[e.id].body.decode() == e.body for e in events)  # the bytes recorded are the bytes signed
    assert {event["type"] for event in verified.values()} == set(EventType.values)
    for subject in {e.subject for e in events}:
        sequences = sorted(event["sequence"] for event in verified.values() if event["subject"] == subject)
        assert sequences == list(range(1, len(sequences) + 1)), subject

    def types_of(subject: str) -> list[str]:
        return [e["type"] for e in sorted(verified.values(), key=lambda e: e["sequence"]) if e["subject"] == subject]

    assert types_of(f"order:{order.reference}") == [
        T.ORDER_CREATED,
        T.ORDER_PAID,
        T.ORDER_FULFILMENT_UPDATED,
        T.ORDER_CANCELLED,
        T.ORDER_REFUNDED,
    ]
    assert types_of(f"order:{unpaid.reference}") == [T.ORDER_CREATED, T.ORDER_EXPIRED]
    assert types_of("variant:ABY-M") == [T.STOCK_RESERVED, T.STOCK_RESERVED, T.STOCK_RELEASED]
    huda_contact = shop.contact(huda.wa_id)
    consents = [e["data"] for e in verified.values() if e["subject"] == f"contact:{huda_contact.pk}"]
    assert sorted((c["category"], c["granted"]) for c in consents) == [("marketing", False), ("utility", True)]
    [handoff] = [e for e in verified.values() if e["type"] == T.THREAD_HANDOFF_REQUESTED]
    assert handoff["data"]["contact"]["wa_id"] == amal.wa_id
    refused = [e for e in verified.values() if e["type"] == T.MESSAGE_FAILED and e["data"]["to"] == huda.wa_id]
    assert [e["data"]["error"]["code"] for e in refused] == [131026]
    paid_event = next(e for e in verified.values() if e["type"] == T.ORDER_PAID)
    assert paid_event["data"]["paid_at"] is not None
