"""A customer at the sandbox's customer endpoint, reading Waco's replies from the sandbox's outbox."""

from conversations.models import Direction, ThreadMessage
from tests.catalog.factories import CategoryFactory, ProductFactory, ShopFactory, VariantFactory
from tests.outbound.meta import wire_shop
from tests.workers import celery_worker, wait_until
from waco.sandbox import services as sandbox

CATALOG_ID = "400000000000001"


def text_of(item: dict) -> str:
    if item.get("type") == "text":
        return item["text"]["body"]
    return item.get("interactive", {}).get("body", {}).get("text", "")


def reply_ids(item: dict) -> list[str]:
    action = item.get("interactive", {}).get("action", {})
    return [b["reply"]["id"] for b in action.get("buttons", [])] + [
        r["id"] for s in action.get("sections", []) for r in s["rows"]
    ]


class Shopper:
    """A customer at the sandbox's customer endpoint, reading replies from its outbox."""

    def __init__(self, shop, wa_id: str, name: str = "Amal"):
        self.shop, self.wa_id, self.name = shop, wa_id, name

    def outbox(self) -> list[dict]:
        return sandbox.outbox_list(config=sandbox.config_get(), to=self.wa_id)

    def send(self, message: dict) -> None:
        sandbox.customer_message_send(
            wa_id=self.wa_id, name=self.name, message=message, phone_number_id=self.shop.number.graph_id
        )
        sandbox.deliveries_flush(horizon_seconds=5)

    def sends(self, message: dict, replies: int = 1) -> list[dict]:
        seen = len(self.outbox())
        self.send(message)

        def new_replies():
            items = self.outbox()
            return items[seen:] if len(items) >= seen + replies else None

        return wait_until(new_replies, timeout=30, message=f"{replies} replies to {message}")

    def says(self, text: str, replies: int = 1) -> list[dict]:
        return self.sends({"type": "text", "text": {"body": text}}, replies)

    def taps(self, reply_id: str, replies: int = 1) -> list[dict]:
        kind = "button_reply" if ":" not in reply_id or reply_id.startswith(("cats", "consent")) else "list_reply"
        return self.sends(
            {"type": "interactive", "interactive": {"type": kind, kind: {"id": reply_id, "title": reply_id}}}, replies
        )

    def inbound_count(self) -> int:
        return ThreadMessage.objects.filter(thread__contact__wa_id=self.wa_id, direction=Direction.INBOUND).count()


def open_shop(settings, live_server, tmp_path, *, env: dict | None = None):
    """A shop on the sandbox (Meta and Stripe over HTTP) selling one abaya in S (sold out), M and L,
    with a real Celery worker pointed at it. Call shop.close() at the end."""
    settings.WACO_PAIR_RATE_PER_MINUTE, settings.WACO_PAIR_BURST = 6000, 100  # the sandbox's pair limit
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL = f"{live_server.url}/webhooks/stripe/"
    settings.WACO_PUBLIC_URL = live_server.url
    shop = wire_shop(settings, live_server)
    account = shop.number.business_account
    ShopFactory(business_account=account, meta_catalog_id=CATALOG_ID)
    product = ProductFactory(category=CategoryFactory(business_account=account, name="Abayas"), name="Linen Abaya")
    shop.variants = {
        size: VariantFactory(
            product=product, sku=f"ABY-{size}", attributes={"size": size}, price_minor=price, on_hand=stock
        )
        for size, price, stock in (("S", 300_00, 0), ("M", 320_00, 4), ("L", 340_00, 10))
    }
    worker_env = {
        "WACO_GRAPH_API_BASE": settings.WACO_GRAPH_API_BASE,
        "WACO_STRIPE_API_BASE": settings.WACO_STRIPE_API_BASE,
        "WACO_PUBLIC_URL": live_server.url,
        "WACO_PAIR_RATE_PER_MINUTE": "6000",
        "WACO_PAIR_BURST": "100",
    } | (env or {})
    worker = celery_worker(tmp_path / "worker.log", env=worker_env).start()

    def close():
        worker.stop()
        from checkout.stripe_client import stripe_clients_close

        stripe_clients_close()
        print("--- worker log tail ---\n" + worker.log_tail())

    shop.worker, shop.close = worker, close
    return shop
