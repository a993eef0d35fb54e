"""A customer at the sandbox's customer endpoint, reading Waco's replies from the sandbox's outbox."""

from conversations.models import Direction, ThreadMessage
from tests.workers import wait_until
from waco.sandbox import services as sandbox


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
