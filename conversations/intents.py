"""What the customer wants, read from what they sent: reply ids, orders, product
questions and the keyword table. Never guessed from free text."""

import re
import unicodedata
from dataclasses import dataclass, replace

from conversations.models import Intent, Keyword
from waco.cloud_api import messages as m

# Latin accents (U+0300-036F) and Arabic vowel marks and tatweel: people type with or without them.
_IGNORED_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u0640\u064b-\u065f\u0670]")
_SPACES_AND_PUNCTUATION = re.compile(r"[\s!?.,;:¡¿،؟।]+")
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# Messages that are not a request: recorded, never answered.
SILENT_TYPES = frozenset({"reaction", "system", "revoke", "edit"})

# Ids Waco puts on its buttons and list rows; anything else is not ours. "stop" is a campaign's
# unsubscribe button: the same request as the keyword.
REPLY_ID = re.compile(
    r"^(?:(?P<simple>menu|cart|checkout|agent|back|stop|rmlist|consent:yes|consent:no)"
    r"|cats:(?P<cats_page>\d{1,4})"
    r"|cat:(?P<category>\d{1,12}):(?P<cat_page>\d{1,4})"
    r"|prod:(?P<product>\d{1,12})"
    r"|opts:(?P<options>\d{1,12})"
    r"|add:(?P<add>\d{1,12})"
    r"|rm:(?P<remove>\d{1,12}))$"
)


# A campaign's quick-reply payload: the campaign, then the reply id of what the button asks for.
CAMPAIGN_PAYLOAD = re.compile(r"^cmp:(?P<campaign>\d{1,12}):(?P<reply_id>.{1,200})$")


@dataclass(frozen=True)
class Request:
    """One thing the customer asked for. `name` is one of the names below."""

    name: str  # menu cart checkout agent stop back remove_list consent_yes consent_no categories
    # category product options add remove order product_question media silent unknown
    arg: int | str | None = None
    page: int = 1
    campaign: int | None = None  # the campaign whose button this was (its quick-reply payload)


def campaign_payload(campaign_id: int, reply_id: str) -> str:
    """A campaign button's payload: the customer's tap carries the campaign and what they asked for."""
    return f"cmp:{campaign_id}:{reply_id}"


def campaign_of_payload(payload: str | None) -> int | None:
    """The campaign a quick-reply payload names, if it is a campaign's."""
    match = CAMPAIGN_PAYLOAD.match(payload or "")
    return int(match["campaign"]) if match else None


def normalise(text: str) -> str:
    """Lower case, no accents or Arabic vowel marks, single spaces, no punctuation."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = _IGNORED_MARKS.sub("", text)
    return " ".join(_SPACES_AND_PUNCTUATION.split(unicodedata.normalize("NFC", text))).strip()


def keyword_intent(text: str) -> str | None:
    """The intent whose keyword is the whole message, after normalising."""
    word = normalise(text)
    if not word or len(word) > 64:
        return None
    return Keyword.objects.filter(word=word).values_list("intent", flat=True).first()


def reply_request(reply_id: str | None) -> Request:
    """The request a button, list row or quick-reply payload of Waco's carries ("unknown" if not ours)."""
    if campaign := CAMPAIGN_PAYLOAD.match(reply_id or ""):
        return replace(_waco_reply(campaign["reply_id"]), campaign=int(campaign["campaign"]))
    return _waco_reply(reply_id)


def _waco_reply(reply_id: str | None) -> Request:
    match = REPLY_ID.match(reply_id or "")
    if match is None:
        return Request("unknown")
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    if "simple" in groups:
        return Request(
            {"rmlist": "remove_list", "consent:yes": "consent_yes", "consent:no": "consent_no"}.get(
                groups["simple"], groups["simple"]
            )
        )
    if "cats_page" in groups:
        return Request("categories", page=max(1, int(groups["cats_page"])))
    if "category" in groups:
        return Request("category", arg=int(groups["category"]), page=max(1, int(groups["cat_page"])))
    for key, name in (("product", "product"), ("options", "options"), ("add", "add"), ("remove", "remove")):
        if key in groups:
            return Request(name, arg=int(groups[key]))
    return Request("unknown")


def request_from(event) -> Request:
    """The customer's request in one inbound message event."""
    content, kind = event.content, event.type or ""
    if kind in SILENT_TYPES:
        return Request("silent")
    if isinstance(content, (m.ButtonReplyContent, m.ListReplyContent)):
        return reply_request(content.reply_id)
    if isinstance(content, m.ButtonContent):  # a template's quick-reply button
        return reply_request(content.payload)
    if isinstance(content, m.OrderContent):
        return Request("order")
    referred = event.context.referred_product if event.context else None
    if referred is not None and referred.product_retailer_id:
        return Request("product_question", arg=referred.product_retailer_id)
    if isinstance(content, m.MediaContent):
        return Request("media")
    if isinstance(content, m.TextContent):
        intent = keyword_intent(content.body)
        return Request(intent) if intent in Intent.values else Request("unknown")
    return Request("unknown")
