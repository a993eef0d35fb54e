"""Declared template parameters, and the placeholders a template's components hold.

A version declares its parameters as a JSON list, one object per placeholder:

    {"component": "body", "position": 1, "name": "customer", "type": "text"}
    {"component": "body", "name": "order_id", "type": "text"}           # named {{order_id}}
    {"component": "header", "type": "image"}                             # a media header
    {"component": "button", "index": 0, "sub_type": "url", "position": 1, "type": "text"}
    {"component": "button", "index": 1, "sub_type": "quick_reply", "type": "payload"}

A parameter with a position fills {{position}}; without one it fills the named
placeholder {{name}}. Callers pass values by `key`: the name when there is one,
else "<component>[.<index>].<position>" (e.g. "body.1", "button.0.1"). Giving
positional parameters a name lets every template of a purpose's chain take the
same values. Pure code: no database, no HTTP.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

# {{1}} or {{name}}, as Meta writes placeholders.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
MEDIA_HEADER_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


class ParamType(StrEnum):
    TEXT = "text"
    NUMBER = "number"  # sent as text, checked to be a number
    CURRENCY = "currency"  # {amount_1000, code, fallback_value?}
    DATE_TIME = "date_time"  # a date, a datetime, an ISO 8601 string or {fallback_value}
    PAYLOAD = "payload"  # a quick-reply button's payload
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


MEDIA_TYPES = frozenset({ParamType.IMAGE, ParamType.VIDEO, ParamType.DOCUMENT})
COMPONENTS = ("header", "body", "button")
BUTTON_SUB_TYPES = {"url": {ParamType.TEXT}, "quick_reply": {ParamType.PAYLOAD}}


class TemplateDefinitionError(ValueError):
    """Declared parameters that do not fit the template's components."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    component: str  # header, body, button
    type: ParamType
    position: int | None = None  # {{position}}; None for a named placeholder or a media header
    name: str | None = None
    index: int | None = None  # buttons only
    sub_type: str | None = None  # buttons only: url, quick_reply

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        where = self.component if self.index is None else f"{self.component}.{self.index}"
        return where if self.position is None else f"{where}.{self.position}"

    @property
    def fills_placeholder(self) -> bool:
        """Media headers and quick-reply payloads have no {{placeholder}} in the text."""
        return self.type not in MEDIA_TYPES and self.type != ParamType.PAYLOAD

    @property
    def named(self) -> bool:
        return self.fills_placeholder and self.position is None and self.name is not None

    @property
    def slot(self) -> tuple:
        """Which placeholder it fills: (component, button index, position or name)."""
        if not self.fills_placeholder:
            return (self.component, self.index, None)
        return (self.component, self.index, self.position if self.position is not None else self.name)

    def describe(self) -> str:
        where = self.component if self.index is None else f"button {self.index}"
        if self.position is not None:
            where += f" {{{{{self.position}}}}}"
        elif self.named:
            where += f" {{{{{self.name}}}}}"
        return f"{where}, {self.type}"

    def as_dict(self) -> dict:
        data = {"component": self.component, "type": str(self.type)}
        for field in ("index", "sub_type", "position", "name"):
            if getattr(self, field) is not None:
                data[field] = getattr(self, field)
        return data


def _spec(raw: object, number: int) -> ParamSpec:
    where = f"parameter #{number}"
    if not isinstance(raw, dict):
        raise TemplateDefinitionError(f"{where} is not an object")
    unknown = set(raw) - {"component", "type", "position", "name", "index", "sub_type"}
    if unknown:
        raise TemplateDefinitionError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    component = raw.get("component")
    if component not in COMPONENTS:
        raise TemplateDefinitionError(f"{where}: component must be one of {', '.join(COMPONENTS)}")
    try:
        kind = ParamType(raw.get("type", ParamType.TEXT))
    except ValueError:
        raise TemplateDefinitionError(f"{where}: unknown type {raw.get('type')!r}") from None
    position, name, index = raw.get("position"), raw.get("name"), raw.get("index")
    if position is not None and (type(position) is not int or position < 1):
        raise TemplateDefinitionError(f"{where}: position must be an integer from 1")
    if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
        raise TemplateDefinitionError(f"{where}: name must be lowercase letters, digits and underscores")
    sub_type = raw.get("sub_type")
    if component == "button":
        if type(index) is not int or not 0 <= index <= 9:
            raise TemplateDefinitionError(f"{where}: a button parameter needs an index from 0 to 9")
        if sub_type not in BUTTON_SUB_TYPES or kind not in BUTTON_SUB_TYPES[sub_type]:
            raise TemplateDefinitionError(f"{where}: buttons take url/text or quick_reply/payload")
    elif index is not None or sub_type is not None:
        raise TemplateDefinitionError(f"{where}: index and sub_type are for buttons only")
    if kind in MEDIA_TYPES and component != "header":
        raise TemplateDefinitionError(f"{where}: media parameters belong to the header")
    fills_placeholder = kind not in MEDIA_TYPES and kind != ParamType.PAYLOAD
    if fills_placeholder and position is None and name is None:
        raise TemplateDefinitionError(f"{where}: give a position ({{{{1}}}}) or a name ({{{{name}}}})")
    return ParamSpec(component=component, type=kind, position=position, name=name, index=index, sub_type=sub_type)


def specs_parse(raw: object) -> list[ParamSpec]:
    """The declared parameters, checked for shape and unique keys and slots."""
    if not isinstance(raw, list):
        raise TemplateDefinitionError("parameters must be a list")
    specs = [_spec(item, number) for number, item in enumerate(raw, start=1)]
    for attr in ("key", "slot"):
        seen = set()
        for spec in specs:
            value = getattr(spec, attr)
            if value in seen:
                raise TemplateDefinitionError(f"two parameters share the {attr} {value!r}")
            seen.add(value)
    return specs


def _component(components: list, kind: str) -> dict | None:
    return next((c for c in components if str(c.get("type", "")).upper() == kind), None)


def _placeholders(text: object) -> list[int | str]:
    found = []
    for token in PLACEHOLDER.findall(text if isinstance(text, str) else ""):
        value = int(token) if token.isdigit() else token
        if value not in found:
            found.append(value)
    return found


def expected_slots(components: list) -> dict[tuple, ParamType | None]:
    """The slots the components hold; a media header names its type, text slots say None."""
    slots: dict[tuple, ParamType | None] = {}
    header = _component(components, "HEADER")
    if header is not None:
        media = MEDIA_HEADER_FORMATS.get(str(header.get("format", "TEXT")).upper())
        if media:
            slots[("header", None, None)] = ParamType(media)
        for value in _placeholders(header.get("text")):
            slots[("header", None, value)] = None
    body = _component(components, "BODY")
    for value in _placeholders(body.get("text") if body else None):
        slots[("body", None, value)] = None
    buttons = _component(components, "BUTTONS")
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if str(button.get("type", "")).upper() == "URL":
            for value in _placeholders(button.get("url")):
                slots[("button", index, value)] = None
    return slots


def quick_reply_indexes(components: list) -> set[int]:
    buttons = _component(components, "BUTTONS")
    return {
        index
        for index, button in enumerate((buttons or {}).get("buttons") or [])
        if str(button.get("type", "")).upper() == "QUICK_REPLY"
    }


def specs_check(specs: list[ParamSpec], components: list) -> None:
    """Every placeholder of the components is declared once, and nothing else is."""
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise TemplateDefinitionError("components must be a list of objects")
    if _component(components, "BODY") is None:
        raise TemplateDefinitionError("a template needs a BODY component")
    expected = expected_slots(components)
    quick_replies = quick_reply_indexes(components)
    declared = {}
    for spec in specs:
        if spec.type == ParamType.PAYLOAD:
            if spec.index not in quick_replies:
                raise TemplateDefinitionError(f"{spec.key}: button {spec.index} is not a quick reply")
            continue
        declared[spec.slot] = spec
        media = expected.get(spec.slot)
        if spec.slot in expected and (media or None) != (spec.type if spec.type in MEDIA_TYPES else None):
            raise TemplateDefinitionError(f"{spec.key}: the header needs a {media or 'text'} parameter")
    missing = [slot for slot in expected if slot not in declared]
    extra = [spec.key for slot, spec in declared.items() if slot not in expected]
    if missing:
        raise TemplateDefinitionError(f"placeholders without a declared parameter: {_slots_text(missing)}")
    if extra:
        raise TemplateDefinitionError(f"parameters without a placeholder: {', '.join(extra)}")
    kinds = {isinstance(slot[2], int) for slot in expected if slot[2] is not None}
    if len(kinds) > 1:
        raise TemplateDefinitionError("Meta does not mix numbered and named placeholders")


def _slots_text(slots: list[tuple]) -> str:
    parts = []
    for component, index, value in slots:
        where = component if index is None else f"button {index}"
        parts.append(where if value is None else f"{where} {{{{{value}}}}}")
    return ", ".join(parts)


def specs_infer(components: list, previous: list[ParamSpec] = ()) -> list[ParamSpec]:
    """Parameters for components whose content came from Meta: a previous declaration is
    kept for each slot that still exists; a new slot is text (a media header, its type)."""
    kept = {spec.slot: spec for spec in previous}
    specs = []
    for (component, index, value), media in expected_slots(components).items():
        slot = (component, index, value)
        if slot in kept:
            specs.append(kept[slot])
            continue
        sub_type = "url" if component == "button" else None
        position = value if isinstance(value, int) else None
        name = value if isinstance(value, str) else None
        specs.append(
            ParamSpec(component, media or ParamType.TEXT, position=position, name=name, index=index, sub_type=sub_type)
        )
    quick_replies = quick_reply_indexes(components)
    specs.extend(spec for spec in previous if spec.type == ParamType.PAYLOAD and spec.index in quick_replies)
    return specs


def uses_named_parameters(components: list) -> bool:
    return any(isinstance(slot[2], str) for slot in expected_slots(components))
