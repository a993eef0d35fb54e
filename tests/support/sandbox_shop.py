"""The one shop on the sandbox: Waco's business account and number, the same ids seeded at the
sandbox (as Meta, and as Stripe when asked), Waco's Graph client and the sandbox's webhooks over
real HTTP to the live server.

`sandbox_shop_wire` is the shop alone; `sandbox_shop_open` adds a catalog and a real worker.
The constants are also the ids the sandbox's own tests seed it with.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from checkout.stripe_client import stripe_clients_close
from templates_lib import services as templates
from templates_lib.models import TemplateCategory
from tests.catalog.factories import CategoryFactory, ProductFactory, ShopFactory, VariantFactory
from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.templates_lib.factories import BODY, PARAMETERS, PurposeFactory
from tests.workers import celery_worker
from waco.cloud_api.client import GraphClient
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource
from waco.ingest import inbox
from waco.sandbox import services as sandbox

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
TOKEN = "sandbox-test-token"
CATALOG_ID = "354160437058781"
VERSION = "v24.0"
CUSTOMER = "15551234567"

SHOP_CATALOG_ID = "400000000000001"  # the default of the in-process chat's order messages too
# One abaya: size, price in minor units, stock. S is sold out.
ABAYA_SIZES = (("S", 300_00, 0), ("M", 320_00, 4), ("L", 340_00, 10))
ORDER_UPDATE_PARAMS = {"customer": "Amal", "order_id": "W-1042"}


@dataclass
class SandboxShop:
    account: object
    number: object
    live_url: str
    variants: dict = field(default_factory=dict)
    worker: object = None

    @property
    def phone_number_id(self) -> str:
        return self.number.graph_id

    @property
    def graph(self) -> GraphClient:
        return GraphClient(TOKEN)

    def customer_says(self, wa_id: str, text: str = "hi", name: str = "Amal") -> str:
        """A customer message through the sandbox, delivered and processed: the window opens."""
        inbound = sandbox.customer_message_send(
            wa_id=wa_id,
            name=name,
            message={"type": "text", "text": {"body": text}},
            phone_number_id=self.number.graph_id,
        )
        self.deliver_webhooks()
        return inbound.wamid

    def deliver_webhooks(self) -> None:
        """Everything the sandbox has to say reaches the webhook, and the inbox is drained."""
        sandbox.deliveries_flush(horizon_seconds=60)
        inbox.inbox_drain()

    def contact(self, wa_id: str):
        return contacts.contact_resolve(wa_id=wa_id)

    def consent(self, wa_id: str, category=ConsentCategory.UTILITY):
        contacts.consent_record(
            contact=self.contact(wa_id),
            category=category,
            action=ConsentAction.OPT_IN,
            source=ConsentSource.CHECKOUT,
            recorded_at=timezone.now(),
        )

    def sent_bodies(self, to: str | None = None) -> list[dict]:
        return sandbox.outbox_list(config=sandbox.config_get(), to=to or "")

    def create_elsewhere(self, name: str, *, category: str = "UTILITY", components=BODY, language="en_US") -> str:
        """A template made at Meta without Waco (WhatsApp Manager): its Meta id."""
        body = {"name": name, "language": language, "category": category, "components": components}
        return self.graph.create_template(self.account.waba_id, body)["id"]

    def listed(self) -> dict[str, dict]:
        return {t["name"]: t for t in self.graph.list_templates(self.account.waba_id)}

    def set_status(self, name: str, status: str, reason: str = "NONE", language: str = "en_US") -> None:
        sandbox.template_status_set(
            waba_id=self.account.waba_id, name=name, language=language, status=status, reason=reason
        )

    def close(self) -> None:
        """The worker stopped (its log printed) and the pooled HTTP clients closed."""
        if self.worker:
            self.worker.stop()
        sandbox.worker_stop()
        stripe_clients_close()
        if self.worker:
            print("--- worker log tail ---\n" + self.worker.log_tail())


def sandbox_shop_wire(settings, live_server, *, name: str | None = None, catalog_id: str = "") -> SandboxShop:
    """Waco's account and number, seeded at the sandbox with the same ids and token; statuses and
    template reviews come at once, and the tests deliver webhooks with `shop.deliver_webhooks()`."""
    settings.WACO_GRAPH_API_BASE = f"{live_server.url}/sandbox/graph"
    settings.WACO_SANDBOX_WEBHOOK_URL = f"{live_server.url}/webhooks/whatsapp/"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False  # tests deliver with deliveries_flush
    account = BusinessAccountFactory(access_token=TOKEN)
    named = {"verified_name": name} if name else {}  # else each side's default name
    number = PhoneNumberFactory(business_account=account, **named)
    sandbox.sandbox_seed(
        waba_id=account.waba_id,
        phone_number_id=number.graph_id,
        display_phone_number=number.display_phone_number.replace("+", "").replace(" ", ""),  # as Meta shows it
        access_token=TOKEN,
        catalog_id=catalog_id,
        **named,
    )
    instant = {"status_delays_ms": {"sent": 0, "delivered": 0, "read": 0}, "template_review_delay_seconds": 0}
    sandbox.config_update(changes=instant, reset=True)
    return SandboxShop(account=account, number=number, live_url=live_server.url)


def sandbox_stripe_wire(settings, live_server) -> None:
    """Stripe is the sandbox's, payment links and images are served by the live server, and the
    sandbox's per-pair limit is the only one that binds."""
    settings.WACO_PAIR_RATE_PER_MINUTE, settings.WACO_PAIR_BURST = 6000, 100
    settings.WACO_PUBLIC_URL = live_server.url
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL = f"{live_server.url}/webhooks/stripe/"


def abaya_stock(shop: SandboxShop, *, catalog_id: str = SHOP_CATALOG_ID, sizes=ABAYA_SIZES, **product) -> None:
    """The shop's catalog: one linen abaya in `sizes`, in shop.variants by size."""
    ShopFactory(business_account=shop.account, meta_catalog_id=catalog_id)
    category = CategoryFactory(business_account=shop.account, name="Abayas")
    abaya = ProductFactory(category=category, name="Linen Abaya", **product)
    shop.variants = {
        size: VariantFactory(product=abaya, sku=f"ABY-{size}", attributes={"size": size}, price_minor=price, on_hand=n)
        for size, price, n in sizes
    }


def worker_start(shop: SandboxShop, settings, live_server, tmp_path, env: dict | None = None) -> None:
    """A real Celery worker pointed at the sandbox; shop.close() stops it."""
    worker_env = {
        "WACO_GRAPH_API_BASE": settings.WACO_GRAPH_API_BASE,
        "WACO_STRIPE_API_BASE": settings.WACO_STRIPE_API_BASE,
        "WACO_PUBLIC_URL": live_server.url,
        "WACO_PAIR_RATE_PER_MINUTE": "6000",
        "WACO_PAIR_BURST": "100",
    } | (env or {})
    shop.worker = celery_worker(tmp_path / "worker.log", env=worker_env).start()


def sandbox_shop_open(settings, live_server, tmp_path, *, env: dict | None = None) -> SandboxShop:
    """A shop on the sandbox (Meta and Stripe over HTTP) selling one abaya in S (sold out), M and L,
    with a real Celery worker pointed at it. Call shop.close() at the end."""
    sandbox_stripe_wire(settings, live_server)
    shop = sandbox_shop_wire(settings, live_server)
    abaya_stock(shop)
    worker_start(shop, settings, live_server, tmp_path, env)
    return shop


def approved_chain(shop: SandboxShop, *names: str) -> list:
    """Templates submitted to the sandbox, reviewed, and chained for order_update."""
    chain = []
    for name in names:
        draft = templates.template_create_draft(
            business_account=shop.account,
            name=name,
            language="en_US",
            category=TemplateCategory.UTILITY,
            components=BODY,
            parameters=PARAMETERS,
        )
        chain.append(templates.template_submit(template=draft))
    shop.deliver_webhooks()  # the sandbox's review approves them by webhook
    # Seeded by a migration, but transactional tests empty the tables they leave.
    purpose = PurposeFactory(key="order_update", category=TemplateCategory.UTILITY)
    templates.purpose_chain_set(purpose=purpose, business_account=shop.account, templates=chain)
    return chain
