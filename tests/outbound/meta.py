"""A shop wired to the sandbox over real HTTP: Waco's Graph client, the sandbox's webhooks."""

from dataclasses import dataclass

from django.utils import timezone

from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource
from waco.ingest import inbox
from waco.sandbox import services as sandbox

TOKEN = "outbound-test-system-user-token"


@dataclass
class Shop:
    number: object
    live_url: str

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


def wire_shop(settings, live_server) -> Shop:
    settings.WACO_GRAPH_API_BASE = f"{live_server.url}/sandbox/graph"
    settings.WACO_SANDBOX_WEBHOOK_URL = f"{live_server.url}/webhooks/whatsapp/"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False  # tests deliver with deliveries_flush
    account = BusinessAccountFactory(access_token=TOKEN)
    number = PhoneNumberFactory(business_account=account)
    sandbox.sandbox_seed(
        waba_id=account.waba_id,
        phone_number_id=number.graph_id,
        display_phone_number=number.display_phone_number,
        access_token=TOKEN,
    )
    sandbox.config_update(changes={"status_delays_ms": {"sent": 0, "delivered": 0, "read": 0}}, reset=True)
    return Shop(number=number, live_url=live_server.url)
