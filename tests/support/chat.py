"""A customer talking to a shop in-process: Meta-shaped webhook bodies through ingest's inbox.

The webhook view is tested elsewhere; here each message is stored with
`delivery_receive` and processed with `delivery_process`, exactly as a worker
would, and the replies are read back from the thread.
"""

import itertools
import json
import time

from conversations.models import Direction, Thread, ThreadMessage
from waco.ingest import inbox
from waco.ingest.models import Delivery
from waco.ingest.services import delivery_process

_wamids = itertools.count(1)


def new_wamid() -> str:
    return f"wamid.TEST{next(_wamids):08d}{int(time.time() * 1000)}"


class Chat:
    def __init__(self, number, wa_id: str = "971501234567", name: str = "Amal"):
        self.number, self.wa_id, self.name = number, wa_id, name

    def body(self, message: dict, *, timestamp: float | None = None, wamid: str | None = None) -> dict:
        message = {
            "from": self.wa_id,
            "id": wamid or new_wamid(),
            "timestamp": str(int(timestamp if timestamp is not None else time.time())),
            **message,
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.number.display_phone_number,
                "phone_number_id": self.number.graph_id,
            },
            "contacts": [{"profile": {"name": self.name}, "wa_id": self.wa_id}],
            "messages": [message],
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.number.business_account.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }

    def send(self, message: dict, **kwargs) -> list[ThreadMessage]:
        """Deliver one message and return the replies it caused (outbound thread messages)."""
        return self.deliver(self.body(message, **kwargs))

    def deliver(self, body: dict) -> list[ThreadMessage]:
        before = self.last_outbound_id()
        delivery_id = inbox.delivery_receive(source="meta", body=json.dumps(body), headers={})
        result = delivery_process(delivery_id=delivery_id)
        if result.failed:
            raise AssertionError(Delivery.objects.get(pk=delivery_id).last_error)
        return list(self.outbound().filter(pk__gt=before))

    def says(self, text: str, **kwargs) -> list[ThreadMessage]:
        return self.send({"type": "text", "text": {"body": text}}, **kwargs)

    def taps(self, reply_id: str, title: str = "button") -> list[ThreadMessage]:
        return self.send(
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
            }
        )

    def picks(self, row_id: str, title: str = "row") -> list[ThreadMessage]:
        return self.send(
            {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}}
        )

    def orders(self, items: list[dict], catalog_id: str = "400000000000001") -> list[ThreadMessage]:
        return self.send({"type": "order", "order": {"catalog_id": catalog_id, "product_items": items, "text": ""}})

    def asks_about(self, retailer_id: str, text: str, catalog_id: str = "400000000000001") -> list[ThreadMessage]:
        context = {
            "from": self.number.display_phone_number,
            "id": new_wamid(),
            "referred_product": {"catalog_id": catalog_id, "product_retailer_id": retailer_id},
        }
        return self.send({"type": "text", "text": {"body": text}, "context": context})

    @property
    def thread(self) -> Thread:
        return Thread.objects.get(contact__wa_id=self.wa_id, phone_number=self.number)

    def outbound(self):
        return ThreadMessage.objects.filter(
            thread__contact__wa_id=self.wa_id, thread__phone_number=self.number, direction=Direction.OUTBOUND
        ).order_by("pk")

    def last_outbound_id(self) -> int:
        last = self.outbound().last()
        return last.pk if last else 0


def buttons(reply: ThreadMessage) -> list[tuple[str, str]]:
    interactive = reply.payload.get("interactive", {})
    return [(b["reply"]["id"], b["reply"]["title"]) for b in interactive.get("action", {}).get("buttons", [])]


def rows(reply: ThreadMessage) -> list[tuple[str, str, str]]:
    sections = reply.payload.get("interactive", {}).get("action", {}).get("sections", [])
    return [(r["id"], r["title"], r.get("description", "")) for s in sections for r in s["rows"]]


def body(reply: ThreadMessage) -> str:
    payload = reply.payload
    if payload.get("type") == "text":
        return payload["text"]["body"]
    return payload.get("interactive", {}).get("body", {}).get("text", "")
