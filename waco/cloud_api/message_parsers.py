"""Parsing of inbound message content: a table keyed on the message's `type`.

`parse_content(message)` picks the parser for the type. A type we do not know,
or a known type whose object is missing or of the wrong shape, becomes
`UnsupportedContent` with the reason: never an error.
"""

import json
from collections.abc import Callable
from typing import Any

from waco.cloud_api.messages import (
    AudioContent,
    ButtonContent,
    ButtonReplyContent,
    CallPermissionReplyContent,
    ContactsContent,
    Context,
    DocumentContent,
    EditContent,
    FlowReplyContent,
    ImageContent,
    ListReplyContent,
    LocationContent,
    MediaContent,
    MessageContent,
    OrderContent,
    ProductItem,
    ReactionContent,
    Referral,
    ReferredProduct,
    RevokeContent,
    SharedContact,
    SharedPhone,
    StickerContent,
    SystemContent,
    TextContent,
    UnsupportedContent,
    VideoContent,
)
from waco.cloud_api.values import (
    as_bool,
    as_decimal,
    as_dict,
    as_float,
    as_id,
    as_int,
    as_str,
    as_timestamp,
    dicts,
    short_repr,
)

# An edit carries the new message inside it; deeper nesting is not a real payload.
_MAX_EDIT_DEPTH = 2

# --- message parts ---------------------------------------------------------------


def parse_context(value: Any) -> Context | None:
    if not isinstance(value, dict):
        return None
    product = value.get("referred_product")
    referred = None
    if isinstance(product, dict):
        referred = ReferredProduct(
            catalog_id=as_id(product.get("catalog_id")),
            product_retailer_id=as_id(product.get("product_retailer_id")),
        )
    return Context(
        from_=as_id(value.get("from")),
        id=as_id(value.get("id")),
        forwarded=as_bool(value.get("forwarded")) or False,
        frequently_forwarded=as_bool(value.get("frequently_forwarded")) or False,
        referred_product=referred,
    )


def parse_referral(value: Any) -> Referral | None:
    if not isinstance(value, dict):
        return None
    names = [name for name in Referral.__dataclass_fields__ if name != "raw"]
    return Referral(**{name: as_str(value.get(name)) for name in names}, raw=value)


# --- content parsers: each takes the message dict and the edit depth --------------


def _unsupported(message: dict, reason: str) -> UnsupportedContent:
    return UnsupportedContent(original_type=as_str(message.get("type")), reason=reason, raw=message)


def _body(message: dict, key: str) -> dict | None:
    value = message.get(key)
    return value if isinstance(value, dict) else None


def _text(message: dict, depth: int) -> MessageContent:
    body = _body(message, "text")
    if body is None or as_str(body.get("body")) is None:
        return _unsupported(message, "text without a string body")
    return TextContent(body=body["body"])


def _media_fields(body: dict) -> dict:
    return {
        "media_id": as_id(body.get("id")),
        "mime_type": as_str(body.get("mime_type")),
        "sha256": as_str(body.get("sha256")),
        "url": as_str(body.get("url")),
        "caption": as_str(body.get("caption")),
    }


def _media(cls: type[MediaContent], **extra: Callable[[dict], Any]):
    def parse(message: dict, depth: int) -> MessageContent:
        body = _body(message, cls.type)
        if body is None:
            return _unsupported(message, f"{cls.type} without its object")
        values = {name: read(body) for name, read in extra.items()}
        return cls(**_media_fields(body), **values)

    return parse


def _location(message: dict, depth: int) -> MessageContent:
    body = _body(message, "location")
    if body is None:
        return _unsupported(message, "location without its object")
    return LocationContent(
        latitude=as_float(body.get("latitude")),
        longitude=as_float(body.get("longitude")),
        name=as_str(body.get("name")),
        address=as_str(body.get("address")),
        url=as_str(body.get("url")),
    )


def _shared_contact(card: dict) -> SharedContact:
    name = as_dict(card.get("name"))
    phones = tuple(
        SharedPhone(
            phone=as_str(phone.get("phone")),
            wa_id=as_id(phone.get("wa_id")),
            type=as_str(phone.get("type")),
        )
        for phone in dicts(card.get("phones"))
    )
    return SharedContact(
        formatted_name=as_str(name.get("formatted_name")),
        first_name=as_str(name.get("first_name")),
        last_name=as_str(name.get("last_name")),
        phones=phones,
        raw=card,
    )


def _contacts(message: dict, depth: int) -> MessageContent:
    cards = message.get("contacts")
    if not isinstance(cards, list):
        return _unsupported(message, "contacts without a list of cards")
    return ContactsContent(contacts=tuple(_shared_contact(card) for card in dicts(cards)))


def _reaction(message: dict, depth: int) -> MessageContent:
    body = _body(message, "reaction")
    if body is None:
        return _unsupported(message, "reaction without its object")
    return ReactionContent(message_id=as_id(body.get("message_id")), emoji=as_str(body.get("emoji")))


def _button(message: dict, depth: int) -> MessageContent:
    body = _body(message, "button")
    if body is None:
        return _unsupported(message, "button without its object")
    return ButtonContent(payload=as_str(body.get("payload")), text=as_str(body.get("text")))


def _button_reply(reply: dict) -> MessageContent:
    return ButtonReplyContent(reply_id=as_id(reply.get("id")), title=as_str(reply.get("title")))


def _list_reply(reply: dict) -> MessageContent:
    return ListReplyContent(
        reply_id=as_id(reply.get("id")),
        title=as_str(reply.get("title")),
        description=as_str(reply.get("description")),
    )


def _decode_object(text: str | None) -> dict | None:
    if text is None or len(text) > 100_000:
        return None
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _flow_reply(reply: dict) -> MessageContent:
    response_json = as_str(reply.get("response_json"))
    return FlowReplyContent(
        name=as_str(reply.get("name")),
        body=as_str(reply.get("body")),
        response_json=response_json,
        response=_decode_object(response_json),
    )


def _call_permission_reply(reply: dict) -> MessageContent:
    return CallPermissionReplyContent(
        response=as_str(reply.get("response")),
        expires_at=as_timestamp(reply.get("expiration_timestamp")),
        response_source=as_str(reply.get("response_source")),
    )


INTERACTIVE_PARSERS: dict[str, Callable[[dict], MessageContent]] = {
    "button_reply": _button_reply,
    "list_reply": _list_reply,
    "nfm_reply": _flow_reply,
    "call_permission_reply": _call_permission_reply,
}


def _interactive(message: dict, depth: int) -> MessageContent:
    body = _body(message, "interactive")
    if body is None:
        return _unsupported(message, "interactive without its object")
    kind = as_str(body.get("type"))
    parser = INTERACTIVE_PARSERS.get(kind) if kind else None
    reply = body.get(kind) if kind else None
    if parser is None or not isinstance(reply, dict):
        reason = f"interactive reply type {short_repr(kind)} unknown or without its object"
        return _unsupported(message, reason)
    return parser(reply)


def _product_item(item: dict) -> ProductItem:
    return ProductItem(
        product_retailer_id=as_id(item.get("product_retailer_id")),
        quantity=as_int(item.get("quantity")),
        item_price=as_decimal(item.get("item_price")),
        currency=as_str(item.get("currency")),
    )


def _order(message: dict, depth: int) -> MessageContent:
    body = _body(message, "order")
    if body is None:
        return _unsupported(message, "order without its object")
    return OrderContent(
        catalog_id=as_id(body.get("catalog_id")),
        text=as_str(body.get("text")),
        product_items=tuple(_product_item(item) for item in dicts(body.get("product_items"))),
    )


def _system(message: dict, depth: int) -> MessageContent:
    body = _body(message, "system")
    if body is None:
        return _unsupported(message, "system without its object")
    return SystemContent(
        system_type=as_str(body.get("type")),
        body=as_str(body.get("body")),
        new_wa_id=as_id(body.get("wa_id")),
    )


def _edit(message: dict, depth: int) -> MessageContent:
    body = _body(message, "edit")
    if body is None:
        return _unsupported(message, "edit without its object")
    inner = body.get("message")
    if not isinstance(inner, dict) or depth >= _MAX_EDIT_DEPTH:
        content: MessageContent = UnsupportedContent(reason="edit without a usable message", raw=inner)
    else:
        content = parse_content(inner, depth=depth + 1)
    return EditContent(original_message_id=as_id(body.get("original_message_id")), content=content)


def _revoke(message: dict, depth: int) -> MessageContent:
    body = _body(message, "revoke")
    if body is None:
        return _unsupported(message, "revoke without its object")
    return RevokeContent(original_message_id=as_id(body.get("original_message_id")))


def _meta_unsupported(message: dict, depth: int) -> MessageContent:
    # Meta's own "unsupported" (a poll, a type the API cannot carry); the real type may be inside.
    inner_type = as_str(as_dict(message.get("unsupported")).get("type"))
    reason = "WhatsApp sent a type the Cloud API does not support"
    return _unsupported(message, f"{reason} ({inner_type})" if inner_type else reason)


CONTENT_PARSERS: dict[str, Callable[[dict, int], MessageContent]] = {
    "text": _text,
    "image": _media(ImageContent),
    "video": _media(VideoContent),
    "audio": _media(AudioContent, voice=lambda body: as_bool(body.get("voice")) or False),
    "document": _media(DocumentContent, filename=lambda body: as_str(body.get("filename"))),
    "sticker": _media(StickerContent, animated=lambda body: as_bool(body.get("animated")) or False),
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "button": _button,
    "interactive": _interactive,
    "order": _order,
    "system": _system,
    "edit": _edit,
    "revoke": _revoke,
    "unsupported": _meta_unsupported,
}
DOCUMENTED_MESSAGE_TYPES = frozenset(CONTENT_PARSERS)


def parse_content(message: Any, *, depth: int = 0) -> MessageContent:
    """The typed content of one message (or echo) dict. Never raises."""
    if not isinstance(message, dict):
        return UnsupportedContent(reason="message is not an object", raw=message)
    message_type = as_str(message.get("type"))
    parser = CONTENT_PARSERS.get(message_type) if message_type else None
    if parser is None:
        return _unsupported(message, f"message type {short_repr(message_type)} is not documented")
    return parser(message, depth)
