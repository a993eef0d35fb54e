"""A template send as the customer's phone shows it: the approved text with parameters filled in."""

from waco.sandbox.graph.message_templates import PLACEHOLDER
from waco.sandbox.models import BusinessAccount, Template


def _param_text(param) -> str:
    if not isinstance(param, dict):
        return str(param)
    kind = param.get("type", "text")
    if kind == "text":
        return str(param.get("text", ""))
    if kind == "payload":
        return str(param.get("payload", ""))
    # currency and date_time carry what a phone without locale data would show.
    value = param.get(kind)
    if isinstance(value, dict) and "fallback_value" in value:
        return str(value["fallback_value"])
    return str(value if value is not None else "")


def _fill(text: str, params: list) -> str:
    """{{1}} takes the first parameter, {{name}} the one with that parameter_name."""
    named = {p.get("parameter_name"): p for p in params if isinstance(p, dict) and p.get("parameter_name")}

    def value(match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(params):
            return _param_text(params[int(key) - 1])
        if key in named:
            return _param_text(named[key])
        return match.group(0)

    return PLACEHOLDER.sub(value, text or "")


def _send_params(spec: dict) -> tuple[dict[str, list], dict[int, dict]]:
    """Parameters of the send by component ('header', 'body'), and button components by index."""
    params, buttons = {}, {}
    for component in spec.get("components") or []:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).lower()
        if kind == "button":
            index = str(component.get("index", "0"))
            buttons[int(index) if index.isdigit() else 0] = component
        else:
            params[kind] = [p for p in component.get("parameters") or []]
    return params, buttons


def _header(component: dict, params: list) -> dict:
    header_format = str(component.get("format", "TEXT")).upper()
    if header_format == "TEXT":
        return {"type": "text", "text": _fill(component.get("text", ""), params)}
    media = params[0].get(header_format.lower(), {}) if params and isinstance(params[0], dict) else {}
    return {"type": header_format.lower(), "link": media.get("link", ""), "id": media.get("id", "")}


def _button(button: dict, send_button: dict | None) -> dict:
    params = (send_button or {}).get("parameters") or []
    kind = str(button.get("type", "")).upper()
    shown = {"type": kind, "text": button.get("text", "")}
    if kind == "URL":
        shown["url"] = _fill(button.get("url", ""), params)
    elif kind == "PHONE_NUMBER":
        shown["phone_number"] = button.get("phone_number", "")
    elif kind == "QUICK_REPLY":
        # What WhatsApp sends back on a tap: the send's payload, else the button's text.
        shown["payload"] = _param_text(params[0]) if params else button.get("text", "")
    return shown


def template_render(*, account: BusinessAccount, spec) -> dict | None:
    """Header, body, footer and buttons of the template the send names; None if the sandbox lacks it."""
    if not isinstance(spec, dict):
        return None
    language = spec.get("language") if isinstance(spec.get("language"), dict) else {}
    template = Template.objects.filter(
        account=account, name=spec.get("name", ""), language=language.get("code", "")
    ).first()
    if template is None:
        return None
    params, send_buttons = _send_params(spec)
    shown = {"header": None, "body": "", "footer": "", "buttons": []}
    for component in template.components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            shown["header"] = _header(component, params.get("header", []))
        elif kind == "BODY":
            shown["body"] = _fill(component.get("text", ""), params.get("body", []))
        elif kind == "FOOTER":
            shown["footer"] = component.get("text", "")
        elif kind == "BUTTONS":
            shown["buttons"] = [_button(b, send_buttons.get(i)) for i, b in enumerate(component.get("buttons", []))]
    return shown
