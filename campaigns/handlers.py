"""Webhook events campaigns act on (registered with ingest by CampaignsConfig.ready())."""

from campaigns import safety
from waco.ingest.registry import HandlerOrder, register


@register("phone_number_quality", order=HandlerOrder.CHANNELS, needs_phone_number=False)
def quality_event_pauses_campaigns(event, *, phone_number) -> None:
    """Meta flagged the number or lowered its limit: its running campaigns pause (the event alone decides)."""
    safety.number_quality_dropped(
        waba_id=event.waba_id, display_phone_number=event.display_phone_number, event=event.event
    )
