"""What the demo chat page shows: one customer's thread with one business number.

Built on the sandbox's own records, as a phone would see them: the customer's
messages are the webhook bodies the sandbox queued (InboundMessage plus its
Delivery), the business's are the outbox (outbox_list) with its statuses.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from waco.sandbox.chat.template_render import template_render
from waco.sandbox.config import Config
from waco.sandbox.graph.catalog import catalog_products
from waco.sandbox.graph.customers import WA_ID
from waco.sandbox.graph.outbox import outbox_list
from waco.sandbox.graph.validation import is_bsuid
from waco.sandbox.graph.wa_ids import wa_id_for
from waco.sandbox.models import Delivery, DeliveryKind, InboundMessage, PhoneNumber, SentMessage

# Ticks keep changing for a while after a message: the newest ones are re-reported on every poll.
TICK_WINDOW = 50
# Rows committed out of id order (two concurrent sends) must not slip under the cursor:
# items this recent are sent again and the page skips the ones it has.
OVERLAP = timedelta(seconds=5)
# Meta drops a typing indicator after 25 seconds or when the business answers.
TYPING_FOR = timedelta(seconds=25)
# What outbox_list adds to a send's body.
OUTBOX_FIELDS = ("wamid", "status", "outbox_id", "phone_number_id")


class ChatInputError(ValueError):
    """Bad input to the chat API: answered 400 with this message."""


@dataclass(frozen=True)
class Cursor:
    """How far the page has read: the last inbound message id and the last outbox id."""

    inbound_id: int = 0
    outbox_id: int = 0

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        if not text:
            return cls()
        inbound, dot, outbox = text.partition(".")
        if not (dot and inbound.isdigit() and outbox.isdigit()):
            raise ChatInputError('since must be a cursor from a previous answer, like "12.40" (or empty)')
        return cls(int(inbound), int(outbox))

    def __str__(self) -> str:
        return f"{self.inbound_id}.{self.outbox_id}"


def chat_numbers(*, config: Config) -> list[dict]:
    """The business numbers a customer can write to; the demo's number first."""
    numbers = sorted(
        PhoneNumber.objects.order_by("id"),
        key=lambda n: n.phone_number_id != settings.WACO_DEMO_PHONE_NUMBER_ID,
    )
    result = []
    for number in numbers:
        health = config.number(number.phone_number_id)
        result.append(
            {
                "phone_number_id": number.phone_number_id,
                "display_phone_number": health.get("display_phone_number", number.display_phone_number),
                "verified_name": health.get("verified_name", number.verified_name) or "Business",
            }
        )
    return result


def chat_number_get(phone_number_id: str) -> PhoneNumber:
    numbers = PhoneNumber.objects.select_related("account")
    if phone_number_id:
        number = numbers.filter(phone_number_id=phone_number_id).first()
        if number is None:
            raise ChatInputError(f"phone_number_id {phone_number_id} is not a sandbox number")
        return number
    number = (
        numbers.filter(phone_number_id=settings.WACO_DEMO_PHONE_NUMBER_ID).first() or numbers.order_by("id").first()
    )
    if number is None:
        raise ChatInputError("no business number is seeded in the sandbox; run manage.py sandbox_seed")
    return number


def _floor(ids_newest_first: list[int], recent_ids: list[int], since: int) -> int:
    """The id to list after: the cursor, lowered to cover the tick window and recent rows."""
    candidates = [since]
    if ids_newest_first:
        candidates.append(ids_newest_first[-1] - 1)
    if recent_ids:
        candidates.append(min(recent_ids) - 1)
    return max(0, min(candidates))


def _inbound_message(body: str) -> dict:
    try:
        return json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return {}


def _customer_side(*, number: PhoneNumber, wa_id: str, since: int, now) -> tuple[list[dict], dict, int]:
    rows = InboundMessage.objects.filter(number=number, wa_id=wa_id)
    window = list(rows.order_by("-id").values_list("id", flat=True)[:TICK_WINDOW])
    recent = set(rows.filter(created_at__gte=now - OVERLAP).values_list("id", flat=True))
    listed = list(rows.filter(id__gt=_floor(window, list(recent), since)).order_by("id"))
    new = [r for r in listed if r.id > since or r.id in recent]
    deliveries = Delivery.objects.filter(kind=DeliveryKind.MESSAGE)
    delivered = set(
        deliveries.filter(ref__in=[r.wamid for r in listed], delivered_at__isnull=False).values_list("ref", flat=True)
    )
    bodies = {}
    new_bodies = deliveries.filter(ref__in=[r.wamid for r in new]).order_by("id")
    for ref, body in new_bodies.values_list("ref", "body"):
        bodies.setdefault(ref, body)
    # Single tick: the sandbox has it; double: delivered to Waco's webhook; blue: Waco marked it read.
    ticks = {r.wamid: "read" if r.read_at else "delivered" if r.wamid in delivered else "sent" for r in listed}
    items = [
        {
            "key": f"in:{r.id}",
            "from": "customer",
            "wamid": r.wamid,
            "at": r.created_at.isoformat(),
            "status": ticks[r.wamid],
            "message": _inbound_message(bodies.get(r.wamid, "")) or {"type": r.type},
        }
        for r in new
    ]
    last = max([since, *(r.id for r in listed)])
    return items, ticks, last


def _business_side(*, config: Config, number: PhoneNumber, wa_id: str, since: int, now) -> tuple[list[dict], dict, int]:
    rows = SentMessage.objects.filter(number=number, customer=wa_id)
    window = list(rows.order_by("-id").values_list("id", flat=True)[:TICK_WINDOW])
    recent = set(rows.filter(created_at__gte=now - OVERLAP).values_list("id", flat=True))
    sends = [
        s
        for s in outbox_list(config=config, customer=wa_id, since_id=_floor(window, list(recent), since))
        if s["phone_number_id"] == number.phone_number_id
    ]
    times = dict(rows.filter(wamid__in=[s["wamid"] for s in sends]).values_list("wamid", "created_at"))
    ticks = {s["wamid"]: s["status"] for s in sends}
    items = []
    for send in sends:
        if send["outbox_id"] <= since and send["outbox_id"] not in recent:
            continue
        message = {k: v for k, v in send.items() if k not in OUTBOX_FIELDS}
        item = {
            "key": f"out:{send['outbox_id']}",
            "from": "business",
            "wamid": send["wamid"],
            "at": times.get(send["wamid"], now).isoformat(),
            "status": send["status"],
            "message": message,
        }
        if message.get("type") == "template":
            item["template"] = template_render(account=number.account, spec=message.get("template"))
        items.append(item)
    last = max([since, *(s["outbox_id"] for s in sends)])
    return items, ticks, last


def _typing(*, number: PhoneNumber, wa_id: str, now) -> bool:
    latest = (
        InboundMessage.objects.filter(number=number, wa_id=wa_id, typing_at__gte=now - TYPING_FOR)
        .order_by("-typing_at")
        .values_list("typing_at", flat=True)
        .first()
    )
    if latest is None:
        return False
    return not SentMessage.objects.filter(number=number, customer=wa_id, created_at__gt=latest).exists()


def chat_thread_read(*, config: Config, number: PhoneNumber, wa_id: str, since: Cursor) -> dict:
    """New items after `since` (oldest first), the current ticks of the newest ones, the next cursor.

    `wa_id` is the customer's phone in digits, or the BSUID of a username-only customer.
    """
    if not isinstance(wa_id, str) or not (WA_ID.match(wa_id) or is_bsuid(wa_id)):
        raise ChatInputError(
            "wa_id must be the customer's phone number in digits (6 to 20), or a business-scoped user id"
        )
    wa_id = wa_id_for(wa_id)  # the thread of Meta's wa_id, whichever form of the number the page has
    now = timezone.now()
    mine, my_ticks, inbound_id = _customer_side(number=number, wa_id=wa_id, since=since.inbound_id, now=now)
    theirs, their_ticks, outbox_id = _business_side(
        config=config, number=number, wa_id=wa_id, since=since.outbox_id, now=now
    )
    # The customer's message first when both land in the same instant: Waco answers, never foresees.
    items = sorted(mine + theirs, key=lambda i: (datetime.fromisoformat(i["at"]), i["from"] != "customer", i["key"]))
    return {
        "items": items,
        "ticks": {**my_ticks, **their_ticks},
        "cursor": str(Cursor(inbound_id, outbox_id)),
        "typing": _typing(number=number, wa_id=wa_id, now=now),
    }


def _price(text: str) -> tuple[str, str]:
    """'320.50 AED' -> ('320.50', 'AED'), the form Meta's catalog uses; anything else -> ('', '')."""
    amount, _, currency = str(text or "").strip().partition(" ")
    try:
        float(amount)
    except ValueError:
        return "", ""
    return amount, currency.strip().upper()


def chat_catalog(*, number: PhoneNumber) -> dict:
    """The business's Meta catalog as the sandbox holds it, with prices split for order messages."""
    catalog_id = number.account.catalog_id
    products = catalog_products(catalog_id=catalog_id, limit=500)["data"] if catalog_id else []
    result = []
    for product in products:
        amount, currency = _price(product.get("price", ""))
        result.append(
            {
                "retailer_id": product["retailer_id"],
                "title": product.get("title") or product.get("name") or product["retailer_id"],
                "description": product.get("description", ""),
                "price": product.get("price", ""),
                "amount": amount,
                "currency": currency,
                "image": product.get("image_link", ""),
                "available": product.get("availability", "in stock") == "in stock",
            }
        )
    return {"catalog_id": catalog_id, "products": result}
