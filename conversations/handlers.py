"""Conversations' part of every inbound message: the dialogue answers it, last of all handlers."""

from conversations import dialogue
from waco.cloud_api.events import MessageEvent
from waco.ingest.registry import HandlerOrder, register


@register("message", order=HandlerOrder.DIALOGUE)
def inbound_message_is_answered(event: MessageEvent, *, phone_number) -> None:
    dialogue.message_handle(event=event, phone_number=phone_number)
