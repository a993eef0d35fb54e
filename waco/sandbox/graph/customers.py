"""Customers: a message typed into the sandbox becomes a signed webhook to Waco.

The sandbox gives the message its wamid and timestamp, opens its own service
window for that customer and number, and queues the envelope; the delivery
worker posts it after commit and retries it like Meta.
"""

import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from waco.sandbox.config import config_get
from waco.sandbox.delivery import delivery_enqueue
from waco.sandbox.faults import fault_roll
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.graph.media import DEFAULT_MIME, MEDIA_TYPES, media_store, placeholder
from waco.sandbox.graph.validation import is_bsuid
from waco.sandbox.graph.wa_ids import canonical_wa_id
from waco.sandbox.graph.webhooks import inbound_message_body, new_wamid
from waco.sandbox.models import DeliveryKind, InboundMessage, Media, PhoneNumber, ServiceWindow

WA_ID = re.compile(r"^\d{6,20}$")
INTERACTIVE_REPLIES = ("button_reply", "list_reply", "nfm_reply")
# Magic numbers of the formats a test or the chat page is likely to upload.
SNIFFED_MIME = {
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"RIFF": "image/webp",
    b"%PDF": "application/pdf",
}


class CustomerInputError(ValueError):
    """A bad customer request: answered 400 with this message, nothing stored."""


def _require(condition, message: str) -> None:
    if not condition:
        raise CustomerInputError(message)


def _section(message: dict, kind: str) -> dict:
    body = message.get(kind)
    _require(isinstance(body, dict), f"message.{kind} must be an object")
    return body


def _text(message: dict) -> dict:
    body = _section(message, "text")
    _require(isinstance(body.get("body"), str) and body["body"], "message.text.body must be a non-empty string")
    return {"body": body["body"]}


def _location(message: dict) -> dict:
    body = _section(message, "location")
    for key in ("latitude", "longitude"):
        _require(isinstance(body.get(key), (int, float)), f"message.location.{key} must be a number")
    return body


def _contacts(message: dict) -> list:
    contacts = message.get("contacts")
    _require(isinstance(contacts, list) and contacts, "message.contacts must be a non-empty list")
    return contacts


def _interactive(message: dict) -> dict:
    body = _section(message, "interactive")
    kind = body.get("type")
    _require(
        kind in INTERACTIVE_REPLIES,
        f"message.interactive.type must be one of {', '.join(INTERACTIVE_REPLIES)}",
    )
    reply = body.get(kind)
    _require(isinstance(reply, dict), f"message.interactive.{kind} must be an object")
    if kind == "nfm_reply":
        _require(
            isinstance(reply.get("response_json"), str),
            "message.interactive.nfm_reply.response_json must be a string",
        )
    else:
        _require(isinstance(reply.get("id"), str) and reply["id"], f"message.interactive.{kind}.id is required")
        _require(isinstance(reply.get("title"), str), f"message.interactive.{kind}.title is required")
    return body


def _button(message: dict) -> dict:
    body = _section(message, "button")
    _require(
        isinstance(body.get("payload"), str) and isinstance(body.get("text"), str),
        "message.button needs payload and text",
    )
    return body


def _order(message: dict, number: PhoneNumber) -> dict:
    body = dict(_section(message, "order"))
    items = body.get("product_items")
    _require(isinstance(items, list) and items, "message.order.product_items must be a non-empty list")
    for index, item in enumerate(items):
        _require(
            isinstance(item, dict)
            and isinstance(item.get("product_retailer_id"), str)
            and isinstance(item.get("quantity"), int)
            and item["quantity"] > 0
            and isinstance(item.get("item_price"), (int, float))
            and isinstance(item.get("currency"), str),
            f"message.order.product_items[{index}] needs product_retailer_id, quantity > 0, item_price and currency",
        )
    # An order always comes from the business's catalog; the chat page need not know its id.
    body.setdefault("catalog_id", number.account.catalog_id)
    body.setdefault("text", "")
    return body


def _reaction(message: dict) -> dict:
    body = _section(message, "reaction")
    _require(
        isinstance(body.get("message_id"), str) and isinstance(body.get("emoji"), str),
        "message.reaction needs message_id and emoji",
    )
    return body


CONTENT_BUILDERS = {
    "text": lambda m, n: _text(m),
    "location": lambda m, n: _location(m),
    "contacts": lambda m, n: _contacts(m),
    "interactive": lambda m, n: _interactive(m),
    "button": lambda m, n: _button(m),
    "order": _order,
    "reaction": lambda m, n: _reaction(m),
}
SUPPORTED_TYPES = (*CONTENT_BUILDERS, *MEDIA_TYPES)


def _sniff(content: bytes, kind: str) -> str:
    for magic, mime in SNIFFED_MIME.items():
        if content.startswith(magic):
            return mime
    return DEFAULT_MIME[kind]


def _media_content(message: dict, number: PhoneNumber, media_bytes: bytes | None) -> dict:
    """Store the file (given, or a placeholder) so Waco can download it by media id."""
    kind = message["type"]
    body = message.get(kind, {})
    _require(isinstance(body, dict), f"message.{kind} must be an object")
    body = dict(body)
    if media_bytes is None and body.get("id"):
        media = Media.objects.filter(account=number.account, media_id=body["id"]).first()
        _require(media is not None, f"message.{kind}.id {body['id']} is not a known media id")
    else:
        content, mime = (media_bytes, None) if media_bytes is not None else placeholder(kind)
        mime = body.get("mime_type") or mime or _sniff(content, kind)
        try:
            media = media_store(account=number.account, content=content, mime_type=mime)
        except GraphError as exc:
            raise CustomerInputError(exc.details) from None
    body.update({"mime_type": media.mime_type, "sha256": media.sha256, "id": media.media_id})
    return body


def _number(phone_number_id: str | None) -> PhoneNumber:
    numbers = PhoneNumber.objects.select_related("account")
    if phone_number_id:
        number = numbers.filter(phone_number_id=phone_number_id).first()
        _require(number is not None, f"phone_number_id {phone_number_id} is not a sandbox number")
        return number
    number = (
        numbers.filter(phone_number_id=settings.WACO_DEMO_PHONE_NUMBER_ID).first() or numbers.order_by("id").first()
    )
    _require(number is not None, "no business number is seeded in the sandbox; run manage.py sandbox_seed")
    return number


def customer_message_send(
    *,
    wa_id: str | None = None,
    message: dict,
    name: str = "",
    phone_number_id: str | None = None,
    media_bytes: bytes | None = None,
    user_id: str | None = None,
    username: str = "",
) -> InboundMessage:
    """A customer writes to a business number: record it and queue the signed webhook.

    A customer who shows the business only a username has no `wa_id`: their
    webhooks carry `contacts[].user_id` and `messages[].from_user_id` (their BSUID)
    and no `wa_id` or `from`; the sandbox keys them on the BSUID.
    """
    _require(wa_id is not None or user_id is not None, '"from" (a wa_id) or "user_id" (a BSUID) is required')
    _require(
        wa_id is None or (isinstance(wa_id, str) and WA_ID.match(wa_id)),
        '"from" must be the customer\'s wa_id: 6 to 20 digits',
    )
    _require(
        user_id is None or is_bsuid(user_id),
        '"user_id" must be a business-scoped user id, like US.13491208655302741918',
    )
    _require(isinstance(message, dict), '"message" must be an object')
    _require(isinstance(name, str) and isinstance(username, str), '"name" and "username" must be strings')
    kind = message.get("type")
    _require(kind in SUPPORTED_TYPES, f"message.type must be one of {', '.join(SUPPORTED_TYPES)}")
    number = _number(phone_number_id)
    # A customer named by their number's other form writes from the wa_id Meta gave them.
    wa_id = canonical_wa_id(wa_id) if wa_id is not None else None
    config = config_get()
    now = timezone.now()
    wamid = new_wamid()
    customer = wa_id or user_id
    name = name or f"Customer {customer[-4:]}"
    with transaction.atomic():
        if kind in MEDIA_TYPES:
            content = _media_content(message, number, media_bytes)
        else:
            content = CONTENT_BUILDERS[kind](message, number)
        inbound = {
            **({"from": wa_id} if wa_id else {}),
            **({"from_user_id": user_id} if user_id else {}),
            "id": wamid,
            "timestamp": str(int(now.timestamp())),
            "type": kind,
            kind: content,
        }
        if isinstance(message.get("context"), dict):
            inbound["context"] = message["context"]
        known = {"user_id": user_id or "", "username": username}
        ServiceWindow.objects.update_or_create(
            number=number,
            wa_id=customer,
            defaults={"last_inbound_at": now, "name": name, **{k: v for k, v in known.items() if v}},
        )
        record = InboundMessage.objects.create(wamid=wamid, number=number, wa_id=customer, type=kind, created_at=now)
        body = inbound_message_body(
            number=number, wa_id=wa_id, user_id=user_id, username=username, name=name, message=inbound
        )
        # Meta delivers at least once and in no guaranteed order; the faults say how often not.
        held = fault_roll(config, "inbound_reorder", config["inbound_reorder_rate"])
        delay = config["reorder_delay_ms"] / 1000 if held else 0.0
        copies = 2 if fault_roll(config, "inbound_duplicate", config["inbound_duplicate_rate"]) else 1
        for _ in range(copies):
            delivery_enqueue(kind=DeliveryKind.MESSAGE, body=body, ref=wamid, delay_seconds=delay)
    return record
