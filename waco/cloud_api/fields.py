"""Parsers for the fields that carry lists of items: messages, smb_message_echoes,
user_preferences and calls (account-level fields are in account_fields.py).

A parser takes a change's value and returns a list of typed events. Each is
total: an item of the wrong shape, or missing what its dedupe key needs,
becomes an UnsupportedEvent with the reason, and the rest is still read.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from waco.cloud_api.errors import parse_error_detail
from waco.cloud_api.events import (
    CallEvent,
    Conversation,
    Event,
    Identity,
    MessageEchoEvent,
    MessageErrorEvent,
    MessageEvent,
    Pricing,
    StatusEvent,
    UnsupportedEvent,
    UserPreferenceEvent,
)
from waco.cloud_api.message_parsers import parse_content, parse_context, parse_referral
from waco.cloud_api.values import (
    as_bool,
    as_dict,
    as_id,
    as_int,
    as_list,
    as_str,
    as_timestamp,
    content_hash,
    dicts,
    short_repr,
)

DOCUMENTED_STATUSES = frozenset({"sent", "delivered", "read", "failed", "played"})


@dataclass(frozen=True, slots=True)
class Change:
    """Where a change sits in the delivery: what every event of it shares."""

    waba_id: str | None
    field: str
    entry_time: datetime | None
    phone_number_id: str | None = None

    def common(self, raw: Any) -> dict:
        return {
            "waba_id": self.waba_id,
            "change_field": self.field,
            "entry_time": self.entry_time,
            "phone_number_id": self.phone_number_id,
            "raw": raw,
        }

    def unsupported(self, raw: Any, reason: str) -> UnsupportedEvent:
        return UnsupportedEvent(**self.common(raw), reason=reason)


# --- the messages-like values: metadata, contacts and item lists --------------------


def _contact_identity(contact: dict) -> Identity:
    profile = as_dict(contact.get("profile"))
    return Identity(
        wa_id=as_id(contact.get("wa_id")),
        user_id=as_id(contact.get("user_id")),
        parent_user_id=as_id(contact.get("parent_user_id")),
        username=as_str(profile.get("username")),
        name=as_str(profile.get("name")),
    )


def _identity(contacts: list[Identity], wa_id: Any, user_id: Any, parent_user_id: Any) -> Identity:
    """The identity an item names, completed from the value's contacts[] entry for it."""
    wa_id, user_id, parent_user_id = as_id(wa_id), as_id(user_id), as_id(parent_user_id)
    matches = [
        contact
        for contact in contacts
        if (wa_id and contact.wa_id == wa_id) or (user_id and contact.user_id == user_id)
    ]
    # An item that names nobody belongs to the only contact, if there is just one;
    # a contact naming someone else must not lend its ids to this item.
    anonymous = not (wa_id or user_id) and len(contacts) == 1
    contact = matches[0] if matches else (contacts[0] if anonymous else Identity())
    return Identity(
        wa_id=wa_id or contact.wa_id,
        user_id=user_id or contact.user_id,
        parent_user_id=parent_user_id or contact.parent_user_id,
        username=contact.username,
        name=contact.name,
    )


def _with_metadata(value: dict, change: Change) -> tuple[Change, str | None, list[Identity]]:
    metadata = as_dict(value.get("metadata"))
    scoped = Change(change.waba_id, change.field, change.entry_time, as_id(metadata.get("phone_number_id")))
    contacts = [_contact_identity(contact) for contact in dicts(value.get("contacts"))]
    return scoped, as_id(metadata.get("display_phone_number")), contacts


def _errors(value: Any) -> tuple:
    return tuple(parse_error_detail(item) for item in dicts(value))


def _message(item: dict, change: Change, display: str | None, contacts: list) -> Event:
    message_id = as_id(item.get("id"))
    if message_id is None:
        return change.unsupported(item, "message without an id")
    return MessageEvent(
        **change.common(item),
        message_id=message_id,
        display_phone_number=display,
        type=as_str(item.get("type")),
        timestamp=as_timestamp(item.get("timestamp")),
        sender=_identity(contacts, item.get("from"), item.get("from_user_id"), item.get("from_parent_user_id")),
        context=parse_context(item.get("context")),
        referral=parse_referral(item.get("referral")),
        content=parse_content(item),
        errors=_errors(item.get("errors")),
    )


def _pricing(value: Any) -> Pricing | None:
    if not isinstance(value, dict):
        return None
    return Pricing(
        billable=as_bool(value.get("billable")),
        pricing_model=as_str(value.get("pricing_model")),
        type=as_str(value.get("type")),
        category=as_str(value.get("category")),
    )


def _conversation(value: Any) -> Conversation | None:
    if not isinstance(value, dict):
        return None
    return Conversation(
        id=as_id(value.get("id")),
        expires_at=as_timestamp(value.get("expiration_timestamp")),
        origin_type=as_str(as_dict(value.get("origin")).get("type")),
    )


def _status(item: dict, change: Change, display: str | None, contacts: list) -> Event:
    message_id = as_id(item.get("id"))
    status = (as_str(item.get("status")) or "").lower()
    if message_id is None:
        return change.unsupported(item, "status without a message id")
    if status not in DOCUMENTED_STATUSES:
        reason = f"status {short_repr(item.get('status'))} is not documented"
        return change.unsupported(item, reason)
    return StatusEvent(
        **change.common(item),
        message_id=message_id,
        status=status,
        display_phone_number=display,
        timestamp=as_timestamp(item.get("timestamp")),
        recipient=_identity(
            contacts,
            item.get("recipient_id"),
            item.get("recipient_user_id"),
            item.get("parent_recipient_user_id"),
        ),
        recipient_type=as_str(item.get("recipient_type")),
        biz_opaque_callback_data=as_str(item.get("biz_opaque_callback_data")),
        errors=_errors(item.get("errors")),
        pricing=_pricing(item.get("pricing")),
        conversation=_conversation(item.get("conversation")),
    )


def _value_errors(value: dict, change: Change, display: str | None) -> list[Event]:
    # Value-level errors carry no id: the whole value identifies them across redeliveries.
    value_hash = content_hash(change.waba_id, change.field, value)
    events: list[Event] = []
    for index, item in enumerate(as_list(value.get("errors"))):
        if not isinstance(item, dict):
            events.append(change.unsupported(item, "errors[] item is not an object"))
            continue
        events.append(
            MessageErrorEvent(
                **change.common(item),
                error=parse_error_detail(item),
                index=index,
                display_phone_number=display,
                value_hash=value_hash,
            )
        )
    return events


def _items(value: dict, key: str, change: Change, parse: Callable[[dict], Event]) -> list[Event]:
    not_object = f"{key}[] item is not an object"
    return [
        parse(item) if isinstance(item, dict) else change.unsupported(item, not_object)
        for item in as_list(value.get(key))
    ]


def parse_messages(value: dict, change: Change) -> list[Event]:
    change, display, contacts = _with_metadata(value, change)
    if not any(isinstance(value.get(key), list) for key in ("messages", "statuses", "errors")):
        return [change.unsupported(value, "messages change without messages, statuses or errors")]
    return [
        *_items(value, "messages", change, lambda item: _message(item, change, display, contacts)),
        *_items(value, "statuses", change, lambda item: _status(item, change, display, contacts)),
        *_value_errors(value, change, display),
    ]


def _echo(item: dict, change: Change, display: str | None, contacts: list) -> Event:
    message_id = as_id(item.get("id"))
    if message_id is None:
        return change.unsupported(item, "message echo without an id")
    return MessageEchoEvent(
        **change.common(item),
        message_id=message_id,
        display_phone_number=display,
        type=as_str(item.get("type")),
        timestamp=as_timestamp(item.get("timestamp")),
        from_=as_id(item.get("from")),
        to=_identity(contacts, item.get("to"), item.get("to_user_id"), item.get("to_parent_user_id")),
        content=parse_content(item),
    )


def parse_message_echoes(value: dict, change: Change) -> list[Event]:
    change, display, contacts = _with_metadata(value, change)
    if not isinstance(value.get("message_echoes"), list):
        return [change.unsupported(value, "smb_message_echoes change without message_echoes")]
    return _items(value, "message_echoes", change, lambda item: _echo(item, change, display, contacts))


def _preference(item: dict, change: Change, display: str | None, contacts: list) -> Event:
    user = _identity(contacts, item.get("wa_id"), item.get("user_id"), item.get("parent_user_id"))
    if not (user.wa_id or user.user_id) or as_str(item.get("value")) is None:
        return change.unsupported(item, "user preference without a user or a value")
    return UserPreferenceEvent(
        **change.common(item),
        user=user,
        display_phone_number=display,
        category=as_str(item.get("category")),
        value=as_str(item.get("value")),
        detail=as_str(item.get("detail")),
        timestamp=as_timestamp(item.get("timestamp")),
        signup_id=as_id(item.get("signup_id")),
    )


def parse_user_preferences(value: dict, change: Change) -> list[Event]:
    change, display, contacts = _with_metadata(value, change)
    if not isinstance(value.get("user_preferences"), list):
        return [change.unsupported(value, "user_preferences change without user_preferences")]
    return _items(value, "user_preferences", change, lambda item: _preference(item, change, display, contacts))


def _call(item: dict, change: Change, event: str | None) -> Event:
    call_id = as_id(item.get("id"))
    if call_id is None:
        return change.unsupported(item, "call event without an id")
    return CallEvent(
        **change.common(item),
        call_id=call_id,
        event=event or as_str(item.get("event")),
        status=as_str(item.get("status")),
        direction=as_str(item.get("direction")),
        from_=as_id(item.get("from")),
        to=as_id(item.get("to") or item.get("recipient_id")),
        timestamp=as_timestamp(item.get("timestamp")),
        duration=as_int(item.get("duration")),
        biz_opaque_callback_data=as_str(item.get("biz_opaque_callback_data")),
    )


def parse_calls(value: dict, change: Change) -> list[Event]:
    change, display, _contacts = _with_metadata(value, change)
    if not any(isinstance(value.get(key), list) for key in ("calls", "statuses", "errors")):
        return [change.unsupported(value, "calls change without calls, statuses or errors")]
    return [
        *_items(value, "calls", change, lambda item: _call(item, change, None)),
        *_items(value, "statuses", change, lambda item: _call(item, change, "status")),
        *_value_errors(value, change, display),
    ]
