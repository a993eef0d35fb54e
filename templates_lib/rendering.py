"""Turning a template and a dict of values into the Graph API's `template` object.

Everything Meta would refuse with a parameter error (132000 count, 132012
format, 132018 whitespace) is refused here first, naming the parameter, so a
bad send never costs an HTTP call. Pure: reads the template's version, writes nothing.
"""

import math
import re
from datetime import date, datetime
from decimal import Decimal

from templates_lib.params import PLACEHOLDER, ParamSpec, ParamType, TemplateDefinitionError, specs_parse

# Meta's limits: a header's text is at most 60 characters, a body at most 1,024
# when other components come with it (we assume they may); URLs at most 2,000.
TEXT_LIMITS = {"header": 60, "body": 1024, "button": 2000}
# Meta answers 132018 for a parameter with a newline or tab, or more than four spaces in a row.
FORBIDDEN_WHITESPACE = re.compile(r"[\n\r\t]| {5,}")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
MEDIA_KEYS = {"image": {"link", "id"}, "video": {"link", "id"}, "document": {"link", "id", "filename"}}


class TemplateRenderError(ValueError):
    """A value is missing, unexpected or of the wrong type; `param` names it."""

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message)
        self.param = param


def _fail(spec: ParamSpec, problem: str) -> TemplateRenderError:
    return TemplateRenderError(f"parameter {spec.key!r} ({spec.describe()}): {problem}", param=spec.key)


def _text(spec: ParamSpec, value) -> str:
    if not isinstance(value, str):
        raise _fail(spec, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise _fail(spec, "must not be empty")
    if FORBIDDEN_WHITESPACE.search(value):
        raise _fail(spec, "Meta refuses newlines, tabs and more than four spaces in a row")
    limit = TEXT_LIMITS[spec.component]
    if len(value) > limit:
        raise _fail(spec, f"is {len(value)} characters; Meta allows {limit} here")
    return value


def _number(spec: ParamSpec, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _fail(spec, f"expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, Decimal) and not value.is_finite():
        raise _fail(spec, "must be a finite number")
    return _text(spec, str(value))


def _currency(spec: ParamSpec, value) -> dict:
    if not isinstance(value, dict) or set(value) - {"amount_1000", "code", "fallback_value"}:
        raise _fail(spec, "expected {amount_1000, code, fallback_value?}")
    amount, code = value.get("amount_1000"), value.get("code")
    if type(amount) is not int or amount < 0:
        raise _fail(spec, "amount_1000 must be a whole number of thousandths, not negative")
    if not isinstance(code, str) or not CURRENCY_CODE.match(code):
        raise _fail(spec, "code must be an ISO 4217 currency code such as USD")
    fallback = value.get("fallback_value")
    if fallback is None:
        fallback = f"{Decimal(amount) / 1000:.2f} {code}"
    elif not isinstance(fallback, str) or not fallback.strip():
        raise _fail(spec, "fallback_value must be a non-empty string")
    return {"fallback_value": fallback, "code": code, "amount_1000": amount}


def _date_time(spec: ParamSpec, value) -> dict:
    """Meta shows fallback_value as given, so dates are written out here."""
    if isinstance(value, dict) and set(value) == {"fallback_value"}:
        value = value["fallback_value"]
        if not isinstance(value, str) or not value.strip():
            raise _fail(spec, "fallback_value must be a non-empty string")
        return {"fallback_value": value}
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _fail(spec, "a string must be an ISO 8601 date or time") from None
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
        return {"fallback_value": f"{text} {value.tzname()}" if value.tzinfo else text}
    if isinstance(value, date):
        return {"fallback_value": value.isoformat()}
    raise _fail(spec, f"expected a date, a datetime or {{fallback_value}}, got {type(value).__name__}")


def _payload(spec: ParamSpec, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(spec, "a button payload must be a non-empty string")
    return value


def _media(spec: ParamSpec, value) -> dict:
    allowed = MEDIA_KEYS[spec.type]
    if not isinstance(value, dict) or set(value) - allowed or len({"link", "id"} & set(value)) != 1:
        raise _fail(spec, f"expected {{link}} or {{id}} (keys: {', '.join(sorted(allowed))})")
    if not all(isinstance(v, str) and v for v in value.values()):
        raise _fail(spec, "media fields must be non-empty strings")
    if "link" in value and not value["link"].startswith("https://"):
        raise _fail(spec, "a media link must be an https:// URL")
    return dict(value)


def _parameter(spec: ParamSpec, value) -> tuple[dict, str | None]:
    """The Graph parameter object, and the text it puts in the message (for length checks)."""
    kind = spec.type
    if kind == ParamType.TEXT:
        text = _text(spec, value)
        param = {"type": "text", "text": text}
    elif kind == ParamType.NUMBER:
        text = _number(spec, value)
        param = {"type": "text", "text": text}
    elif kind == ParamType.CURRENCY:
        currency = _currency(spec, value)
        param, text = {"type": "currency", "currency": currency}, currency["fallback_value"]
    elif kind == ParamType.DATE_TIME:
        date_time = _date_time(spec, value)
        param, text = {"type": "date_time", "date_time": date_time}, date_time["fallback_value"]
    elif kind == ParamType.PAYLOAD:
        param, text = {"type": "payload", "payload": _payload(spec, value)}, None
    else:
        param, text = {"type": str(kind), str(kind): _media(spec, value)}, None
    if spec.named:
        param["parameter_name"] = spec.name
    return param, text


def _component_text(components: list, kind: str) -> str | None:
    component = next((c for c in components if str(c.get("type", "")).upper() == kind), None)
    text = component.get("text") if component else None
    return text if isinstance(text, str) else None


def _check_length(components: list, kind: str, filled: dict, limit: int) -> None:
    """The text with its placeholders filled must stay within Meta's limit."""
    text = _component_text(components, kind)
    if text is None:
        return

    def fill(match: re.Match) -> str:
        token = match.group(1)
        return filled.get(int(token) if token.isdigit() else token, match.group(0))

    length = len(PLACEHOLDER.sub(fill, text))
    if length > limit:
        raise TemplateRenderError(f"the filled {kind.lower()} is {length} characters; Meta allows {limit}")


def render(*, name: str, language: str, components: list, parameters: list, params: dict) -> dict:
    """The Graph `template` object for these values; raises TemplateRenderError."""
    if not isinstance(params, dict):
        raise TemplateRenderError("params must be a dict of parameter values")
    try:
        specs = specs_parse(parameters)
    except TemplateDefinitionError as exc:
        raise TemplateRenderError(f"template {name} [{language}] declares bad parameters: {exc}") from exc
    declared = {spec.key for spec in specs}
    extra = sorted(str(key) for key in params if key not in declared)
    if extra:
        raise TemplateRenderError(
            f"unexpected parameter(s) {', '.join(map(repr, extra))}; {name} takes {sorted(declared) or 'none'}",
            param=extra[0],
        )
    groups: dict[tuple, list] = {}
    filled: dict[str, dict] = {"header": {}, "body": {}}
    for spec in sorted(specs, key=_order):
        if spec.key not in params:
            raise TemplateRenderError(f"missing parameter {spec.key!r} ({spec.describe()})", param=spec.key)
        param, text = _parameter(spec, params[spec.key])
        groups.setdefault((spec.component, spec.index, spec.sub_type), []).append(param)
        if text is not None and spec.component in filled:
            filled[spec.component][spec.position if spec.position is not None else spec.name] = text
    _check_length(components, "HEADER", filled["header"], TEXT_LIMITS["header"])
    _check_length(components, "BODY", filled["body"], TEXT_LIMITS["body"])
    rendered = []
    for (component, index, sub_type), parameters_ in groups.items():
        item = {"type": component}
        if component == "button":
            item.update(sub_type=sub_type, index=str(index))
        item["parameters"] = parameters_
        rendered.append(item)
    result = {"name": name, "language": {"code": language}}
    if rendered:
        result["components"] = rendered
    return result


def _order(spec: ParamSpec) -> tuple:
    """Header, body, then buttons by index; numbered placeholders by number, named as declared."""
    rank = {"header": 0, "body": 1, "button": 2}[spec.component]
    return (rank, spec.index or 0, spec.position or 0)
