"""Outbound's part of the webhook: statuses of the messages we sent."""

from django.utils import timezone

from outbound import inbound_traffic, quality, read_receipts, statuses
from outbound.models import OutboundMessage, SendAttempt
from waco.cloud_api.events import StatusEvent
from waco.ingest.registry import HandlerOrder, register, register_after_batch


@register("status", order=HandlerOrder.DELIVERY)
def status_updates_message(event: StatusEvent, *, phone_number) -> None:
    """Find our message by wamid, or by the id we put in biz_opaque_callback_data
    (the status can beat our send's HTTP response); park the status if neither."""
    message = _message_for(event, phone_number)
    if message is None:
        statuses.status_park(wamid=event.message_id, status=event.status, raw=_envelope(event))
        return
    statuses.status_apply(
        message=message, status=event.status, at=event.timestamp, pricing=event.pricing, errors=event.errors
    )


def _message_for(event: StatusEvent, phone_number) -> OutboundMessage | None:
    # The message body is not needed to apply a status (a template fallback reads it when needed).
    locked = OutboundMessage.objects.select_for_update().defer("content", "template_params")
    message = locked.filter(wamid=event.message_id).first()
    if message is not None:
        return message
    our_id = event.biz_opaque_callback_data or ""
    if not our_id.isdigit():
        return None
    message = locked.filter(pk=int(our_id), phone_number=phone_number).first()
    if message is None:
        return None
    if message.wamid:
        # The send's answer may have committed this very wamid while the lock was awaited: it is ours.
        return message if message.wamid == event.message_id else None  # else: an earlier attempt's status
    if SendAttempt.objects.filter(message=message, wamid=event.message_id).exists():
        return None  # an earlier attempt that fell back to a template
    message.wamid = event.message_id
    message.save(update_fields=["wamid", "updated_at"])
    return message


def _envelope(event: StatusEvent) -> dict:
    """A delivery body holding just this status, so parking reuses the webhook parser."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": event.waba_id or "",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": event.phone_number_id},
                            "statuses": [event.raw],
                        },
                    }
                ],
            }
        ],
    }


register_after_batch(read_receipts.receipts_publish)


@register("message", order=HandlerOrder.CHANNELS)
def inbound_message_spends_throughput(event, *, phone_number) -> None:
    """Meta counts the customer's message against the number's throughput: sends get what is left."""
    inbound_traffic.inbound_count(phone_number=phone_number)


register_after_batch(inbound_traffic.inbound_charge)


@register("phone_number_quality", order=HandlerOrder.CHANNELS, needs_phone_number=False)
def quality_event_updates_number(event, *, phone_number) -> None:
    quality.quality_event_apply(event=event, now=timezone.now())
