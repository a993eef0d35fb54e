"""A shop seeded for the API-wide acceptance tests (tests/api/): every resource of /api/v1/ has rows that
an operation can reach with a 2xx, and `ApiWorld` names them by the identifiers the paths take.

`account_snapshot` is what "changes nothing" compares: the account's objects with their updated_at, and
the rows hanging from them; `contacts_snapshot` the same for the merchant's contacts.
"""

import importlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from campaigns.models import Campaign, CampaignChange, CampaignRecipient, CampaignStatus, RecipientStatus
from catalog.demo_data import demo_catalog_seed
from catalog.models import Category, Product, Variant
from checkout.models import Order, OrderChange, OrderLine, OrderStatus, PaymentLink, Refund
from conversations.models import Thread, ThreadMessage
from outbound.models import OutboundMessage
from templates_lib import services as templates
from templates_lib.models import Purpose, Template, TemplateCategory
from tests.campaigns.factories import CampaignFactory, CampaignRecipientFactory
from tests.catalog.factories import CategoryFactory, ProductFactory, ShopFactory, VariantFactory
from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.checkout.factories import OrderFactory, approved_chain, paid_order, utility_consent
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.templates_lib.factories import TemplateFactory
from waco.channels.models import BusinessAccount
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource, Contact, ServiceWindow
from waco.events import services as events
from waco.events.models import Event, WebhookEndpoint

# A BSUID as Meta sends it for a customer with a username and no phone known to us.
BSUID = "US.13491208655302741918"
# What the API documentation's examples name (the customers of contacts and messages, an order).
DOCUMENTED_CUSTOMERS = ("971501230077", "971501230001")
DOCUMENTED_ORDER = "WK7M2Q9PX"
# Purposes come from data migrations, which a transactional test's flush empties.
PURPOSE_MIGRATIONS = ("0002_standard_purposes", "0003_payment_link_purpose", "0004_payment_refunded_purpose")
# The campaigns API's documented template (no parameters, so a body without `params` can use it).
CAMPAIGN_TEMPLATE = "winter_sale"
# Campaigns in each state a transition starts from, several of each: the fuzzer's cancels come first
# (the schema's order) and must leave some for pause, resume and start to reach a 2xx.
CAMPAIGNS_PER_STATUS = 8


@dataclass
class ApiWorld:
    """One business account's objects, by the identifiers /api/v1/ takes, and the strings only they show."""

    account: BusinessAccount
    numbers: list[str] = field(default_factory=list)  # phone number ids (Graph ids)
    products: list[str] = field(default_factory=list)  # external ids
    skus: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)  # references
    contacts: list[str] = field(default_factory=list)  # wa_ids, then the BSUID
    messages: list[int] = field(default_factory=list)  # outbound message ids
    threads: list[int] = field(default_factory=list)
    webhook_endpoints: list[int] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # names
    campaigns: list[int] = field(default_factory=list)
    private_strings: list[str] = field(default_factory=list)  # names no other account's answer may show

    def identifiers(self) -> dict[str, list]:
        """Resource name (the path segment before its parameter) -> real identifiers."""
        return {
            "products": self.products,
            "skus": self.skus,
            "orders": self.orders,
            "contacts": self.contacts,
            "messages": self.messages,
            "threads": self.threads,
            "webhook-endpoints": self.webhook_endpoints,
            "templates": self.templates,
            "accounts": [self.account.waba_id],
            "numbers": self.numbers,
            "purposes": ["order_update", "delivery_update"],
            "campaigns": self.campaigns,
        }


def purposes_seed() -> None:
    if Purpose.objects.exists():
        return
    for name in PURPOSE_MIGRATIONS:
        importlib.import_module(f"templates_lib.migrations.{name}").seed(apps, None)


def shop_seed(*, name: str = "Alpha Modest Fashion") -> ApiWorld:
    """An account with the demo catalog, orders in several states, contacts with consent and windows,
    a thread with messages, outbound messages and approved templates in the purposes' chains."""
    purposes_seed()
    now = timezone.now()
    account = BusinessAccountFactory(name=name)
    number = PhoneNumberFactory(business_account=account)
    ShopFactory(business_account=account)
    demo_catalog_seed(business_account=account)

    # The customers, order and parameters the API documentation's examples name exist here, so the
    # fuzzer's examples phase (the documented examples, sent as they are) reaches their objects.
    customer = ContactFactory(wa_id=DOCUMENTED_CUSTOMERS[0], profile_name="Amal Haddad")
    buyer = ContactFactory(wa_id=DOCUMENTED_CUSTOMERS[1], profile_name="Huda Karim")
    for person in (customer, buyer):
        contacts.window_touch(contact=person, phone_number=number, inbound_at=now - timedelta(hours=1))
        for category in (ConsentCategory.UTILITY, ConsentCategory.MARKETING):
            contacts.consent_record(
                contact=person,
                category=category,
                action=ConsentAction.OPT_IN,
                source=ConsentSource.THREAD,
                recorded_at=now - timedelta(days=1),
            )
    quiet = ContactFactory(profile_name="Noor Saleh")  # no window, no consent
    by_username = ContactFactory(wa_id=None, user_id=BSUID, profile_name="Layla")
    utility_consent(by_username)

    paid = [paid_order(phone_number=number, contact=customer) for _ in range(3)]
    pending = OrderFactory(phone_number=number, contact=quiet)
    shipped = paid_order(phone_number=number, contact=customer, status=OrderStatus.SHIPPED)
    packed = paid_order(reference=DOCUMENTED_ORDER, phone_number=number, contact=buyer, status=OrderStatus.PACKED)
    orders = [*paid, pending, shipped, packed]

    thread = ThreadFactory(contact=customer, phone_number=number)
    ThreadMessageFactory(thread=thread)
    ThreadFactory(contact=by_username, phone_number=number)
    sent = OutboundMessageFactory(phone_number=number, contact=customer, subject_type="thread", subject_id=thread.pk)
    queued = OutboundMessageFactory(phone_number=number, contact=quiet)

    # order_update with the documented parameters (customer, order_id); delivery_update as the demo's.
    order_update = TemplateFactory(business_account=account, name=f"order_update_{account.waba_id}")
    templates.purpose_chain_set(
        purpose=Purpose.objects.get(key="order_update"), business_account=account, templates=[order_update]
    )
    chain = [order_update, *approved_chain(account, "delivery_update", f"delivery_update_{account.waba_id}")]
    endpoint, _ = events.endpoint_create(
        url="http://127.0.0.1:9/waco-events", event_types=["order.paid"], business_accounts=[account]
    )
    campaign_template = TemplateFactory(
        business_account=account,
        name=CAMPAIGN_TEMPLATE,
        category=TemplateCategory.MARKETING,
        components=[{"type": "BODY", "text": "Our winter sale starts today: 20% off everything."}],
        parameters=[],
    )
    campaigns = [
        CampaignFactory(
            phone_number=number, template=campaign_template, params={}, status=status, name=f"Alpha {status} {n}"
        )
        for n in range(CAMPAIGNS_PER_STATUS)
        for status in (CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
    ]
    for person, outcome in ((customer, RecipientStatus.DELIVERED), (buyer, RecipientStatus.PENDING)):
        CampaignRecipientFactory(campaign=campaigns[1], contact=person, status=outcome)  # a running one
    products = list(Product.objects.filter(business_account=account).order_by("pk"))
    skus = list(Variant.objects.filter(product__business_account=account).order_by("pk").values_list("sku", flat=True))
    return ApiWorld(
        account=account,
        numbers=[number.graph_id],
        products=[product.external_id for product in products],
        skus=skus,
        orders=[order.reference for order in orders],
        contacts=[customer.wa_id, buyer.wa_id, quiet.wa_id, BSUID],
        messages=[sent.pk, queued.pk],
        threads=[thread.pk],
        webhook_endpoints=[endpoint.pk],
        templates=[*(template.name for template in chain), CAMPAIGN_TEMPLATE],
        campaigns=[campaign.pk for campaign in campaigns],
        private_strings=[
            *(campaign.name for campaign in campaigns),
            *(product.name for product in products),
            *skus,
            *(order.reference for order in orders),
            *(template.name for template in chain),
            number.graph_id,
        ],
    )


def other_shop_seed() -> ApiWorld:
    """A second account with a number and one product of its own, so its lists are not trivially empty."""
    account = BusinessAccountFactory(name="Beta Outdoor")
    number = PhoneNumberFactory(business_account=account)
    product = ProductFactory(
        category=CategoryFactory(business_account=account, name="Tents"),
        external_id="BETA-TENT",
        name="Beta Ridge Tent",
    )
    VariantFactory(product=product, sku="BETA-TENT-2P", attributes={"size": "2P"})
    return ApiWorld(account=account, numbers=[number.graph_id], products=[product.external_id], skus=["BETA-TENT-2P"])


def account_snapshot(account: BusinessAccount) -> dict[str, list]:
    """The account's rows, each with its updated_at when it has one; equal snapshots mean nothing changed."""
    return _snapshot(
        {
            Category: Category.objects.filter(business_account=account),
            Product: Product.objects.filter(business_account=account),
            Variant: Variant.objects.filter(product__business_account=account),
            Order: Order.objects.filter(business_account=account),
            OrderLine: OrderLine.objects.filter(order__business_account=account),
            OrderChange: OrderChange.objects.filter(order__business_account=account),
            PaymentLink: PaymentLink.objects.filter(order__business_account=account),
            Refund: Refund.objects.filter(order__business_account=account),
            Thread: Thread.objects.filter(phone_number__business_account=account),
            ThreadMessage: ThreadMessage.objects.filter(thread__phone_number__business_account=account),
            OutboundMessage: OutboundMessage.objects.filter(phone_number__business_account=account),
            Template: Template.objects.filter(business_account=account),
            ServiceWindow: ServiceWindow.objects.filter(phone_number__business_account=account),
            WebhookEndpoint: WebhookEndpoint.objects.filter(business_accounts=account),
            Event: Event.objects.filter(business_account=account),
            Campaign: Campaign.objects.filter(business_account=account),
            CampaignChange: CampaignChange.objects.filter(campaign__business_account=account),
            CampaignRecipient: CampaignRecipient.objects.filter(campaign__business_account=account),
        }
    )


def contacts_snapshot() -> dict[str, list]:
    """Contacts and their consent ledger: the merchant's, not an account's (any key with the scope writes them)."""
    return _snapshot({Contact: Contact.objects.all(), ConsentEntry: ConsentEntry.objects.all()})


def _snapshot(querysets: dict) -> dict[str, list]:
    snapshot = {}
    for model, rows in querysets.items():
        columns = ["pk"] + [f.name for f in model._meta.concrete_fields if f.name == "updated_at"]
        snapshot[model._meta.label] = list(rows.order_by("pk").values_list(*columns))
    return snapshot
