"""A storefront end to end on Waco's API and events: it pushes its products and stock through /api/v1/,
a customer buys in the thread and pays at Stripe, the storefront's receiver hears a signed `order.paid`,
the storefront reports the parcel packed and shipped through /api/v1/, and the customer is told in the
thread, tracking link and all. Real worker; the sandbox as Meta and as Stripe over HTTP."""

import pytest
import requests
from django.utils import timezone

from catalog.models import Variant
from checkout.models import OrderStatus
from tests.support.api import api_key
from tests.support.checkout_e2e import checkout, stripe_events_delivered
from tests.support.drain import wait_drained
from tests.support.events import WORKER_ENV, worker_settings
from tests.support.receiver import EventReceiver
from tests.support.sandbox_shop import ABAYA_SIZES, sandbox_shop_wire, sandbox_stripe_wire, worker_start
from tests.support.shopper import Shopper, text_of
from tests.workers import wait_until
from waco.events.models import EventType
from waco.sandbox.stripe.payments import session_pay_card

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCOPES = ["catalog:read", "catalog:write", "orders:read", "orders:write", "webhooks:manage"]
HEARS = [
    EventType.ORDER_CREATED,
    EventType.ORDER_PAID,
    EventType.ORDER_FULFILMENT_UPDATED,
    EventType.STOCK_RESERVED,
    EventType.STOCK_RELEASED,
]
TRACKING_URL = "https://aramex.example/track/AX123"


class Storefront:
    """The merchant's order system: calls /api/v1/ over HTTP with its key, hears events at its receiver."""

    def __init__(self, live_url: str, raw_key: str, receiver: EventReceiver):
        self.api, self.raw_key, self.receiver = f"{live_url}/api/v1", raw_key, receiver
        self.secret = ""

    def call(self, method: str, path: str, body: dict) -> dict:
        answer = requests.request(
            method, self.api + path, json=body, headers={"Authorization": f"Bearer {self.raw_key}"}, timeout=30
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def subscribe(self) -> None:
        """Its receiver registered; the secret is in the answer, and only there."""
        self.secret = self.call("POST", "/webhook-endpoints", {"url": self.receiver.url, "event_types": HEARS})[
            "secret"
        ]

    def events(self) -> list[dict]:
        """What the receiver accepted, each signature verified, deduplicated on webhook-id."""
        verified = {r.headers["webhook-id"]: r.verify(self.secret) for r in self.receiver.accepted()}
        return list(verified.values())

    def heard(self, type: str) -> dict | None:
        return next((event for event in self.events() if event["type"] == type), None)


@pytest.fixture
def shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    """The shop on the sandbox with no catalog yet, and a real worker that may post events to loopback."""
    worker_settings(settings)
    sandbox_stripe_wire(settings, live_server)
    shop = sandbox_shop_wire(settings, live_server)
    worker_start(shop, settings, live_server, tmp_path, env=WORKER_ENV)
    yield shop
    shop.close()


def test_the_storefront_hears_a_signed_paid_order_ships_it_and_the_customer_is_told(shop):
    _, raw = api_key(scopes=SCOPES, accounts=[shop.account], name="Storefront")
    with EventReceiver() as receiver:
        store = Storefront(shop.live_url, raw, receiver)
        store.subscribe()
        variants = [
            {"sku": f"ABY-{size}", "options": {"size": size}, "price_minor": price, "currency": "AED"}
            for size, price, _ in ABAYA_SIZES
        ]
        put = store.call(
            "PUT", "/products/ABAYA-1", {"name": "Linen Abaya", "category": "Abayas", "variants": variants}
        )
        assert put["result"] == "created"
        as_of = timezone.now().isoformat()
        levels = [{"sku": f"ABY-{size}", "on_hand": n, "as_of": as_of} for size, _, n in ABAYA_SIZES]
        pushed = store.call("POST", "/stock", {"levels": levels})
        results = {r["sku"]: r["result"] for r in pushed["results"]}
        assert results == {"ABY-S": "unchanged", "ABY-M": "applied", "ABY-L": "applied"}  # S: none, as made

        shop.variants = {v.attributes["size"]: v for v in Variant.objects.filter(product__external_id="ABAYA-1")}
        amal = Shopper(shop, "971502250001")
        _, link, _ = checkout(shop, amal)  # two Ms
        session_pay_card(session_id=link.stripe_session_id)
        stripe_events_delivered()

        paid = wait_until(lambda: store.heard(EventType.ORDER_PAID), message="order.paid at the receiver")
        reference = paid["data"]["reference"]
        store.call("POST", f"/orders/{reference}/events", {"event": "packed"})
        shipped = store.call(
            "POST",
            f"/orders/{reference}/events",
            {"event": "shipped", "carrier": "Aramex", "tracking_url": TRACKING_URL},
        )
        assert (shipped["result"], shipped["status"]) == ("applied", OrderStatus.SHIPPED)

        told = wait_until(
            lambda: [item for item in amal.outbox() if "has shipped!" in text_of(item)], message="the shipment told"
        )
        wait_drained()
        events = store.events()

    assert [text_of(item) for item in told] == [
        f"Your order {reference} has shipped! Carrier: Aramex. Track it here: {TRACKING_URL}"
    ]
    assert paid["data"]["status"] == OrderStatus.PAID and paid["data"]["total_minor"] == 2 * 320_00
    assert paid["data"]["customer"]["wa_id"] == amal.wa_id
    assert [(line["sku"], line["quantity"]) for line in paid["data"]["lines"]] == [("ABY-M", 2)]
    order_events = sorted((e for e in events if e["subject"] == f"order:{reference}"), key=lambda e: e["sequence"])
    assert [(e["sequence"], e["type"], e["data"]["status"]) for e in order_events] == [
        (1, EventType.ORDER_CREATED, OrderStatus.PENDING_PAYMENT),
        (2, EventType.ORDER_PAID, OrderStatus.PAID),
        (3, EventType.ORDER_FULFILMENT_UPDATED, OrderStatus.PACKED),
        (4, EventType.ORDER_FULFILMENT_UPDATED, OrderStatus.SHIPPED),
    ]
    assert (order_events[-1]["data"]["carrier"], order_events[-1]["data"]["tracking_url"]) == ("Aramex", TRACKING_URL)
    [reserved] = [e for e in events if e["type"] == EventType.STOCK_RESERVED]
    assert reserved["subject"] == "variant:ABY-M"
    assert (reserved["data"]["quantity"], reserved["data"]["available"]) == (2, 2)
