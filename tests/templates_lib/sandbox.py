"""A business account wired to the sandbox Meta over real HTTP, for submit and sync tests."""

from dataclasses import dataclass

from tests.channels.factories import BusinessAccountFactory
from waco.cloud_api.client import GraphClient
from waco.ingest import inbox
from waco.sandbox import services as sandbox

TOKEN = "templates-test-system-user-token"
PHONE_NUMBER_ID = "106540352249001"
CUSTOMER = "971501239001"
BODY = [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}]


@dataclass
class Meta:
    account: object
    phone_number_id: str = PHONE_NUMBER_ID

    @property
    def graph(self) -> GraphClient:
        return GraphClient(TOKEN)

    def deliver_webhooks(self) -> None:
        """Everything the sandbox has to say reaches our webhook, and the inbox is drained."""
        sandbox.deliveries_flush(horizon_seconds=60)
        inbox.inbox_drain()

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


def wire_meta(settings, live_server, **config) -> Meta:
    settings.WACO_GRAPH_API_BASE = f"{live_server.url}/sandbox/graph"
    settings.WACO_SANDBOX_WEBHOOK_URL = f"{live_server.url}/webhooks/whatsapp/"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False  # tests deliver with deliveries_flush
    account = BusinessAccountFactory(access_token=TOKEN)
    sandbox.sandbox_seed(
        waba_id=account.waba_id,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number="15550009001",
        access_token=TOKEN,
    )
    sandbox.config_update(changes={"template_review_delay_seconds": 0, **config}, reset=True)
    return Meta(account=account)
