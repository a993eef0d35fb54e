"""Inbound message content: one frozen dataclass per message type docs/cloud-api.md lists.

The parsers that build them are in message_parsers.py.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from waco.cloud_api.values import as_str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferredProduct:
    """The catalog product a customer's question is about (context.referred_product)."""

    catalog_id: str | None
    product_retailer_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a message replies to, or that it was forwarded. Absent on most messages."""

    from_: str | None = None
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: ReferredProduct | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """The ad or post a click-to-WhatsApp conversation started from."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)


# --- content types -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TextContent:
    type: ClassVar[str] = "text"
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaContent:
    """Fields every media type shares. `media_id` lives 7 days; `url` only on newer payloads."""

    type: ClassVar[str] = "media"
    media_id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    url: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageContent(MediaContent):
    type: ClassVar[str] = "image"


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoContent(MediaContent):
    type: ClassVar[str] = "video"


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioContent(MediaContent):
    type: ClassVar[str] = "audio"
    voice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentContent(MediaContent):
    type: ClassVar[str] = "document"
    filename: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StickerContent(MediaContent):
    type: ClassVar[str] = "sticker"
    animated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationContent:
    type: ClassVar[str] = "location"
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedPhone:
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContact:
    """One contact card; emails, addresses and the rest stay in `raw`."""

    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phones: tuple[SharedPhone, ...] = ()
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactsContent:
    type: ClassVar[str] = "contacts"
    contacts: tuple[SharedContact, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionContent:
    type: ClassVar[str] = "reaction"
    message_id: str | None = None
    emoji: str | None = None

    @property
    def removed(self) -> bool:
        """An empty or missing emoji means the customer took the reaction back."""
        return not self.emoji


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonContent:
    """A template's quick-reply button was tapped: `payload` is what the send set."""

    type: ClassVar[str] = "button"
    payload: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonReplyContent:
    type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str] = "button_reply"
    reply_id: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListReplyContent:
    type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str] = "list_reply"
    reply_id: str | None = None
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowReplyContent:
    """A Flow was completed (nfm_reply). `response` is response_json decoded, when it decodes."""

    type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str] = "nfm_reply"
    name: str | None = None
    body: str | None = None
    response_json: str | None = None
    response: dict | None = field(default=None, compare=False)

    @property
    def flow_token(self) -> str | None:
        return as_str((self.response or {}).get("flow_token"))


@dataclass(frozen=True, slots=True, kw_only=True)
class CallPermissionReplyContent:
    type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str] = "call_permission_reply"
    response: str | None = None
    expires_at: datetime | None = None
    response_source: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductItem:
    """One cart line. `item_price` is the unit price as Meta gives it (major units)."""

    product_retailer_id: str | None = None
    quantity: int | None = None
    item_price: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderContent:
    type: ClassVar[str] = "order"
    catalog_id: str | None = None
    text: str | None = None
    product_items: tuple[ProductItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemContent:
    """A system notice: user_changed_number (new wa_id) or customer_identity_changed."""

    type: ClassVar[str] = "system"
    system_type: str | None = None
    body: str | None = None
    new_wa_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeContent:
    type: ClassVar[str] = "revoke"
    original_message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedContent:
    """Meta's own `unsupported` type, an unknown type, or a known type of the wrong shape."""

    type: ClassVar[str] = "unsupported"
    original_type: str | None = None
    reason: str = ""
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EditContent:
    """The customer edited an earlier message; `content` is the new version."""

    type: ClassVar[str] = "edit"
    original_message_id: str | None = None
    content: "MessageContent" = field(default_factory=lambda: UnsupportedContent(reason="empty"))


MessageContent = (
    TextContent
    | ImageContent
    | VideoContent
    | AudioContent
    | DocumentContent
    | StickerContent
    | LocationContent
    | ContactsContent
    | ReactionContent
    | ButtonContent
    | ButtonReplyContent
    | ListReplyContent
    | FlowReplyContent
    | CallPermissionReplyContent
    | OrderContent
    | SystemContent
    | EditContent
    | RevokeContent
    | UnsupportedContent
)
