"""Webhook bodies shaped like Meta's (see /work/shared/payloads/webhooks/)."""

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


def _contacts(wa_id: str, name: str | None) -> list | None:
    if not name:
        return None
    return [{"profile": {"name": name}, "wa_id": wa_id}]


def inbound_message_body(*, number: PhoneNumber, wa_id: str, name: str, message: dict) -> dict:
    """A `messages` change carrying one customer message."""
    value = _messages_value(number, contacts=_contacts(wa_id, name), messages=[message])
    return envelope(waba_id=number.account.waba_id, field="messages", value=value)


def status_body(
    *,
    number: PhoneNumber,
    wamid: str,
    status: str,
    recipient_id: str,
    timestamp: int,
    name: str | None = None,
    pricing: dict | None = None,
    callback_data: str | None = None,
    errors: list | None = None,
) -> dict:
    """A `messages` change carrying one status of an accepted send."""
    entry = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": recipient_id}
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    if pricing is not None:
        entry["pricing"] = pricing
    if errors is not None:
        entry["errors"] = errors
    value = _messages_value(number, contacts=_contacts(recipient_id, name), statuses=[entry])
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
    return envelope(
        waba_id=template.account.waba_id, field="message_template_status_update", value=value, time=time
    )
