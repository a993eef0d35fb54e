"""Structural checks of a send request, answered with code 100 as Meta does.

Only what can be judged from the body alone lives here; checks that need the
sandbox's state (templates, media ids, windows) are in waco.sandbox.graph.send.
"""

import re

from waco.sandbox.graph.errors import GraphError

MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_DESCRIPTION = 72
MAX_SECTION_TITLE = 24
MAX_PRODUCTS = 30
MAX_CTA_DISPLAY_TEXT = 20
MAX_CALLBACK_DATA = 512
CAPTIONED_MEDIA = ("image", "video", "document")
# A business-scoped user id: "US.13491208655302741918", a parent one "US.ENT.1181...".
BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")


def _require(condition, details: str) -> None:
    if not condition:
        raise GraphError(100, details)


def _obj(value, where: str) -> dict:
    _require(isinstance(value, dict), f"Param {where} must be an object.")
    return value


def _text(container: dict, key: str, where: str, *, max_len: int, required: bool = True) -> None:
    value = container.get(key)
    if value is None and not required:
        return
    _require(
        isinstance(value, str) and value != "",
        f"Param {where}.{key} is required and must be a non-empty string.",
    )
    _require(len(value) <= max_len, f"Param {where}.{key} is too long: {len(value)} characters, max {max_len}.")


def is_bsuid(value) -> bool:
    return isinstance(value, str) and bool(BSUID.match(value))


# --- message types ------------------------------------------------------------


def _text_message(payload: dict) -> None:
    text = _obj(payload.get("text"), "text")
    _text(text, "body", "text", max_len=MAX_TEXT_BODY)


def _media(obj: dict, where: str) -> None:
    has_id, has_link = obj.get("id") is not None, obj.get("link") is not None
    _require(has_id != has_link, f"Param {where} needs exactly one of id or link.")
    if has_id:
        _require(isinstance(obj["id"], str) and obj["id"], f"Param {where}.id must be a media id string.")
    else:
        _require(
            isinstance(obj["link"], str) and obj["link"].startswith(("http://", "https://")),
            f"Param {where}.link must be an http(s) URL.",
        )


def _media_message(payload: dict) -> None:
    kind = payload["type"]
    media = _obj(payload.get(kind), kind)
    _media(media, kind)
    if kind in CAPTIONED_MEDIA:
        _text(media, "caption", kind, max_len=MAX_CAPTION, required=False)
    else:
        _require("caption" not in media, f"Param {kind}.caption is not supported for {kind}.")


def _location(payload: dict) -> None:
    location = _obj(payload.get("location"), "location")
    for key in ("latitude", "longitude"):
        value = location.get(key)
        try:
            float(value)
        except (TypeError, ValueError):
            raise GraphError(100, f"Param location.{key} is required and must be a number.") from None


def _contacts(payload: dict) -> None:
    contacts = payload.get("contacts")
    _require(isinstance(contacts, list) and contacts, "Param contacts must be a non-empty list.")
    for index, contact in enumerate(contacts):
        name = _obj(_obj(contact, f"contacts[{index}]").get("name"), f"contacts[{index}].name")
        _text(name, "formatted_name", f"contacts[{index}].name", max_len=1024)


def _reaction(payload: dict) -> None:
    reaction = _obj(payload.get("reaction"), "reaction")
    _text(reaction, "message_id", "reaction", max_len=256)
    # An empty emoji removes a reaction.
    _require(isinstance(reaction.get("emoji"), str), "Param reaction.emoji must be a string.")


def _template(payload: dict) -> None:
    template = _obj(payload.get("template"), "template")
    _text(template, "name", "template", max_len=512)
    language = _obj(template.get("language"), "template.language")
    _text(language, "code", "template.language", max_len=16)
    components = template.get("components", [])
    _require(isinstance(components, list), "Param template.components must be a list.")
    for index, component in enumerate(components):
        where = f"template.components[{index}]"
        _obj(component, where)
        _require(isinstance(component.get("type"), str), f"Param {where}.type is required.")
        parameters = component.get("parameters", [])
        _require(isinstance(parameters, list), f"Param {where}.parameters must be a list.")
        for p_index, parameter in enumerate(parameters):
            _require(
                isinstance(parameter, dict) and isinstance(parameter.get("type"), str),
                f"Param {where}.parameters[{p_index}].type is required.",
            )


# --- interactive ----------------------------------------------------------------


def _interactive_header(interactive: dict, *, required: bool = False) -> None:
    header = interactive.get("header")
    if header is None:
        _require(not required, "Param interactive.header is required for this interactive type.")
        return
    header = _obj(header, "interactive.header")
    kind = header.get("type")
    if kind == "text":
        _text(header, "text", "interactive.header", max_len=MAX_HEADER_TEXT)
    elif kind in CAPTIONED_MEDIA:
        _media(_obj(header.get(kind), f"interactive.header.{kind}"), f"interactive.header.{kind}")
    else:
        raise GraphError(100, "Param interactive.header.type must be text, image, video or document.")


def _interactive_common(interactive: dict, *, body_required: bool = True, header_required: bool = False) -> dict:
    _interactive_header(interactive, required=header_required)
    body = interactive.get("body")
    if body is not None or body_required:
        _text(_obj(body, "interactive.body"), "text", "interactive.body", max_len=MAX_INTERACTIVE_BODY)
    if interactive.get("footer") is not None:
        _text(
            _obj(interactive["footer"], "interactive.footer"),
            "text",
            "interactive.footer",
            max_len=MAX_FOOTER_TEXT,
        )
    return _obj(interactive.get("action"), "interactive.action")


def _unique(values: list, what: str) -> None:
    _require(len(values) == len(set(values)), f"Interactive message: {what} must be unique.")


def _buttons(interactive: dict) -> None:
    action = _interactive_common(interactive)
    buttons = action.get("buttons")
    _require(isinstance(buttons, list) and buttons, "Param interactive.action.buttons must be a non-empty list.")
    _require(
        len(buttons) <= MAX_REPLY_BUTTONS,
        f"Interactive message: at most {MAX_REPLY_BUTTONS} buttons, got {len(buttons)}.",
    )
    replies = []
    for index, button in enumerate(buttons):
        where = f"interactive.action.buttons[{index}]"
        _require(_obj(button, where).get("type") == "reply", f"Param {where}.type must be reply.")
        reply = _obj(button.get("reply"), f"{where}.reply")
        _text(reply, "id", f"{where}.reply", max_len=MAX_BUTTON_ID)
        _text(reply, "title", f"{where}.reply", max_len=MAX_BUTTON_TITLE)
        replies.append(reply)
    _unique([r["id"] for r in replies], "button ids")
    _unique([r["title"] for r in replies], "button titles")


def _sections(action: dict, *, max_items: int, items_key: str, check_item, titles_required: bool) -> None:
    sections = action.get("sections")
    _require(isinstance(sections, list) and sections, "Param interactive.action.sections must be a non-empty list.")
    _require(
        len(sections) <= MAX_SECTIONS,
        f"Interactive message: at most {MAX_SECTIONS} sections, got {len(sections)}.",
    )
    total = 0
    for index, section in enumerate(sections):
        where = f"interactive.action.sections[{index}]"
        _obj(section, where)
        _text(section, "title", where, max_len=MAX_SECTION_TITLE, required=titles_required or len(sections) > 1)
        items = section.get(items_key)
        _require(isinstance(items, list) and items, f"Param {where}.{items_key} must be a non-empty list.")
        for i_index, item in enumerate(items):
            check_item(_obj(item, f"{where}.{items_key}[{i_index}]"), f"{where}.{items_key}[{i_index}]")
        total += len(items)
    _require(total <= max_items, f"Interactive message: at most {max_items} {items_key} in total, got {total}.")


def _row(row: dict, where: str) -> None:
    _text(row, "id", where, max_len=MAX_ROW_ID)
    _text(row, "title", where, max_len=MAX_ROW_TITLE)
    _text(row, "description", where, max_len=MAX_ROW_DESCRIPTION, required=False)


def _list(interactive: dict) -> None:
    action = _interactive_common(interactive)
    _text(action, "button", "interactive.action", max_len=MAX_LIST_BUTTON)
    _sections(action, max_items=MAX_LIST_ROWS, items_key="rows", check_item=_row, titles_required=False)
    _unique([r["id"] for s in action["sections"] for r in s["rows"]], "row ids")


def _product(interactive: dict) -> None:
    action = _interactive_common(interactive, body_required=False)
    _text(action, "catalog_id", "interactive.action", max_len=64)
    _text(action, "product_retailer_id", "interactive.action", max_len=100)


def _product_item(item: dict, where: str) -> None:
    _text(item, "product_retailer_id", where, max_len=100)


def _product_list(interactive: dict) -> None:
    action = _interactive_common(interactive, header_required=True)
    _require(
        interactive["header"].get("type") == "text",
        "Param interactive.header.type must be text for product_list.",
    )
    _text(action, "catalog_id", "interactive.action", max_len=64)
    _sections(
        action,
        max_items=MAX_PRODUCTS,
        items_key="product_items",
        check_item=_product_item,
        titles_required=True,
    )


def _named_action(interactive: dict, name: str) -> dict:
    action = _interactive_common(interactive)
    _require(action.get("name") == name, f"Param interactive.action.name must be {name}.")
    return action


def _catalog_message(interactive: dict) -> None:
    _named_action(interactive, "catalog_message")


def _cta_url(interactive: dict) -> None:
    parameters = _obj(_named_action(interactive, "cta_url").get("parameters"), "interactive.action.parameters")
    _text(parameters, "display_text", "interactive.action.parameters", max_len=MAX_CTA_DISPLAY_TEXT)
    _text(parameters, "url", "interactive.action.parameters", max_len=2000)
    _require(
        parameters["url"].startswith(("http://", "https://")),
        "Param interactive.action.parameters.url must be an http(s) URL.",
    )


def _flow(interactive: dict) -> None:
    parameters = _obj(_named_action(interactive, "flow").get("parameters"), "interactive.action.parameters")
    _text(parameters, "flow_message_version", "interactive.action.parameters", max_len=8)
    _text(parameters, "flow_cta", "interactive.action.parameters", max_len=30)
    _require(
        parameters.get("flow_id") or parameters.get("flow_name"),
        "Param interactive.action.parameters needs flow_id or flow_name.",
    )


INTERACTIVE_VALIDATORS = {
    "button": _buttons,
    "list": _list,
    "product": _product,
    "product_list": _product_list,
    "catalog_message": _catalog_message,
    "cta_url": _cta_url,
    "flow": _flow,
}


def _interactive(payload: dict) -> None:
    interactive = _obj(payload.get("interactive"), "interactive")
    kind = interactive.get("type")
    _require(
        kind in INTERACTIVE_VALIDATORS,
        f"Param interactive.type must be one of {', '.join(INTERACTIVE_VALIDATORS)}.",
    )
    INTERACTIVE_VALIDATORS[kind](interactive)


MESSAGE_VALIDATORS = {
    "text": _text_message,
    **{kind: _media_message for kind in ("image", "video", "audio", "document", "sticker")},
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "template": _template,
    "interactive": _interactive,
}


def validate_send(payload: dict) -> str:
    """Check a send body as Meta would; returns its message type."""
    _require(
        payload.get("messaging_product") == "whatsapp",
        "The parameter messaging_product is required and must be whatsapp.",
    )
    _require(
        payload.get("recipient_type", "individual") == "individual",
        "Param recipient_type must be individual.",
    )
    # A phone goes in `to`, a BSUID in `recipient`; with both, `to` wins (as on Meta).
    to, recipient = payload.get("to"), payload.get("recipient")
    _require(to is not None or recipient is not None, "The parameter to or recipient is required.")
    _require(to is None or (isinstance(to, str) and to.strip()), "Param to must be a non-empty string.")
    _require(
        recipient is None or is_bsuid(recipient),
        "Param recipient must be a business-scoped user id, like US.13491208655302741918.",
    )
    # Meta treats a body without a type as text.
    kind = payload.setdefault("type", "text")
    _require(kind in MESSAGE_VALIDATORS, f"Param type must be one of {', '.join(MESSAGE_VALIDATORS)}.")
    MESSAGE_VALIDATORS[kind](payload)
    if payload.get("context") is not None:
        _text(_obj(payload["context"], "context"), "message_id", "context", max_len=256)
    callback = payload.get("biz_opaque_callback_data")
    if callback is not None:
        _require(
            isinstance(callback, str) and len(callback) <= MAX_CALLBACK_DATA,
            f"Param biz_opaque_callback_data must be a string of at most {MAX_CALLBACK_DATA} characters.",
        )
    return kind


def is_mark_read(payload: dict) -> bool:
    return payload.get("status") == "read"


def validate_mark_read(payload: dict) -> None:
    _require(
        payload.get("messaging_product") == "whatsapp",
        "The parameter messaging_product is required and must be whatsapp.",
    )
    _text(payload, "message_id", "request", max_len=256)
    indicator = payload.get("typing_indicator")
    if indicator is not None:
        _require(
            _obj(indicator, "typing_indicator").get("type") == "text",
            "Param typing_indicator.type must be text.",
        )
