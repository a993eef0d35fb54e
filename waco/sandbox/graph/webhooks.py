"""Webhook bodies shaped like Meta's (real ones, for comparison: tests/fixtures/webhooks/)."""

import base64
import os

from waco.sandbox.models import PhoneNumber, Template


def new_wamid() -> str:
    # Real wamids are "wamid." + base64 of an opaque id; only uniqueness matters to clients.
    return "wamid." + base64.b64encode(os.urandom(27)).decode()


def envelope(*, waba_id: str, field: str, value: dict, time: int | None = None) -> dict:
    entry = {"id": waba_id, "changes": [{"value": value, "field": field}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _messages_value(number: PhoneNumber, **parts) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": number.display_phone_number,
            "phone_number_id": number.phone_number_id,
        },
    }
    value.update({key: part for key, part in parts.items() if part is not None})
    return value


def _contacts(*, wa_id: str | None, user_id: str | None, name: str | None, username: str = "") -> list | None:
    """A customer as Meta names them: wa_id only with a phone, user_id (their BSUID) when known."""
    if not name:
        return None
    contact = {"profile": {"name": name, **({"username": username} if username else {})}}
    if wa_id:
        contact["wa_id"] = wa_id
    if user_id:
        contact["user_id"] = user_id
    return [contact]


def inbound_message_body(
    *,
    number: PhoneNumber,
    wa_id: str | None,
    name: str,
    message: dict,
    user_id: str | None = None,
    username: str = "",
) -> dict:
    """A `messages` change carrying one customer message (`from` and/or `from_user_id` set by the caller)."""
    contacts = _contacts(wa_id=wa_id, user_id=user_id, name=name, username=username)
    value = _messages_value(number, contacts=contacts, messages=[message])
    return envelope(waba_id=number.account.waba_id, field="messages", value=value)


def status_body(
    *,
    number: PhoneNumber,
    wamid: str,
    status: str,
    recipient_id: str | None,
    timestamp: int,
    recipient_user_id: str | None = None,
    name: str | None = None,
    pricing: dict | None = None,
    callback_data: str | None = None,
    errors: list | None = None,
) -> dict:
    """A `messages` change carrying one status of an accepted send.

    `recipient_id` (the phone) only when the customer has one; `recipient_user_id` when known.
    """
    entry = {"id": wamid, "status": status, "timestamp": str(timestamp)}
    if recipient_id:
        entry["recipient_id"] = recipient_id
    if recipient_user_id:
        entry["recipient_user_id"] = recipient_user_id
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    if pricing is not None:
        entry["pricing"] = pricing
    if errors is not None:
        entry["errors"] = errors
    contacts = _contacts(wa_id=recipient_id, user_id=recipient_user_id, name=name)
    value = _messages_value(number, contacts=contacts, statuses=[entry])
    return envelope(waba_id=number.account.waba_id, field="messages", value=value)


def template_status_body(*, template: Template, event: str, reason: str, time: int) -> dict:
    """A `message_template_status_update` change, as in the template fixtures."""
    value = {
        "event": event,
        "message_template_id": int(template.template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
        "message_template_category": template.category,
    }
    return envelope(waba_id=template.account.waba_id, field="message_template_status_update", value=value, time=time)
