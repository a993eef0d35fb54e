"""Webhook deliveries from Meta: the envelope, and its split into typed events.

Two entry points, for the two places that read a delivery:
- the view calls `decode_envelope` (or `parse_envelope_or_raise`): a body that
  is not JSON, or not a whatsapp_business_account envelope, raises
  WebhookEnvelopeError, which the view answers with 400;
- the worker calls `parse_delivery` on the stored body: it never raises, and
  whatever it cannot read becomes an UnsupportedEvent that keeps the raw value.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from waco.cloud_api.account_fields import (
    parse_account_alert,
    parse_account_review,
    parse_account_update,
    parse_business_capability,
    parse_phone_number_name,
    parse_phone_number_quality,
    parse_template_category,
    parse_template_components,
    parse_template_quality,
    parse_template_status,
)
from waco.cloud_api.events import Event, UnsupportedEvent
from waco.cloud_api.fields import (
    Change,
    parse_calls,
    parse_message_echoes,
    parse_messages,
    parse_user_preferences,
)
from waco.cloud_api.values import as_id, as_str, as_timestamp, short_repr

logger = logging.getLogger(__name__)

WEBHOOK_OBJECT = "whatsapp_business_account"

# The fields docs/cloud-api.md lists. Any other field is stored as an UnsupportedEvent.
FIELD_PARSERS: dict[str, Callable[[dict, Change], list[Event]]] = {
    "messages": parse_messages,
    "message_template_status_update": parse_template_status,
    "message_template_quality_update": parse_template_quality,
    "message_template_components_update": parse_template_components,
    "template_category_update": parse_template_category,
    "phone_number_quality_update": parse_phone_number_quality,
    "phone_number_name_update": parse_phone_number_name,
    "account_update": parse_account_update,
    "account_review_update": parse_account_review,
    "account_alerts": parse_account_alert,
    "business_capability_update": parse_business_capability,
    "user_preferences": parse_user_preferences,
    "smb_message_echoes": parse_message_echoes,
    "calls": parse_calls,
}
DOCUMENTED_FIELDS = frozenset(FIELD_PARSERS)

__all__ = [
    "DOCUMENTED_FIELDS",
    "FIELD_PARSERS",
    "WEBHOOK_OBJECT",
    "WebhookEnvelopeError",
    "decode_envelope",
    "parse_delivery",
    "parse_delivery_bytes",
    "parse_envelope_or_raise",
]


class WebhookEnvelopeError(ValueError):
    """The body is not JSON, or not a whatsapp_business_account envelope."""


def decode_envelope(body: bytes | str | dict) -> dict:
    """The decoded envelope, checked for its object type. Raises WebhookEnvelopeError."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise WebhookEnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise WebhookEnvelopeError("body is not a JSON object")
    if body.get("object") != WEBHOOK_OBJECT:
        found = short_repr(body.get("object"))
        raise WebhookEnvelopeError(f"object is {found}, not {WEBHOOK_OBJECT!r}")
    return body


def parse_envelope_or_raise(body: bytes | str | dict) -> list[Event]:
    """Check the envelope (raising WebhookEnvelopeError), then split it into events."""
    return _parse_entries(decode_envelope(body))


def parse_delivery(body: Any) -> list[Event]:
    """Split a delivery (decoded, or raw bytes) into typed events, in order. Never raises."""
    try:
        envelope = decode_envelope(body)
    except WebhookEnvelopeError as exc:
        return [UnsupportedEvent(raw=_printable(body), reason=str(exc))]
    return _parse_entries(envelope)


def parse_delivery_bytes(raw: bytes | str) -> list[Event]:
    """parse_delivery for the raw body as stored. Never raises."""
    return parse_delivery(raw)


def _printable(raw: Any) -> Any:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("utf-8", "replace")
    return raw


def _parse_entries(envelope: dict) -> list[Event]:
    entries = envelope.get("entry")
    if not isinstance(entries, list):
        return [UnsupportedEvent(raw=envelope, reason="envelope without an entry list")]
    events: list[Event] = []
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(UnsupportedEvent(raw=entry, reason="entry is not an object"))
            continue
        waba_id = as_id(entry.get("id"))
        entry_time = as_timestamp(entry.get("time"))
        changes = entry.get("changes")
        if not isinstance(changes, list):
            events.append(UnsupportedEvent(waba_id=waba_id, raw=entry, reason="entry without a changes list"))
            continue
        for change in changes:
            events.extend(_parse_change(change, waba_id, entry_time))
    return events


def _parse_change(change: Any, waba_id: str | None, entry_time: Any) -> list[Event]:
    if not isinstance(change, dict):
        return [UnsupportedEvent(waba_id=waba_id, raw=change, reason="change is not an object")]
    field = as_str(change.get("field"))
    context = Change(waba_id=waba_id, field=field or "", entry_time=entry_time)
    value = change.get("value")
    parser = FIELD_PARSERS.get(field) if field else None
    if parser is None:
        reason = f"field {short_repr(change.get('field'))} is not documented"
        return [context.unsupported(change, reason)]
    if not isinstance(value, dict):
        return [context.unsupported(change, f"{field} change without an object value")]
    try:
        return parser(value, context)
    except Exception as exc:  # noqa: BLE001 - the worker must never lose a delivery to a parser bug
        logger.exception("webhook parser for %s failed", field)
        reason = f"parser error: {type(exc).__name__}: {short_repr(str(exc))}"
        return [context.unsupported(change, reason)]
