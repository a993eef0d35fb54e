"""The orders API's bodies: an order as the storefront reads it, the PATCH body, and the fulfilment events.

Explicit fields only, so the OpenAPI schema says exactly what goes over the wire.
"""

from rest_framework import serializers

from checkout.models import LinkStatus, OrderStatus
from checkout.payments import link_url
from waco.api.fields import StrictCharField, StrictIntegerField, StrictURLField


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_minor = serializers.IntegerField()
    line_total_minor = serializers.IntegerField()


class CustomerSerializer(serializers.Serializer):
    wa_id = serializers.CharField(allow_null=True, help_text="Digits of the customer's number, when known.")
    bsuid = serializers.CharField(source="user_id", allow_null=True, help_text="Meta's business-scoped user id.")
    name = serializers.SerializerMethodField(help_text="The merchant's name for the customer, else WhatsApp's.")

    def get_name(self, contact) -> str:
        return contact.name or contact.profile_name


class StatusChangeSerializer(serializers.Serializer):
    from_status = serializers.CharField(source="from_state", help_text="Blank for the order's placing.")
    to_status = serializers.CharField(source="to_state")
    cause = serializers.CharField(help_text="customer, payment, staff or api.")
    changed_at = serializers.DateTimeField(source="created_at")


class PaymentLinkSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LinkStatus.choices)
    url = serializers.SerializerMethodField(help_text="The customer's payment page; null once the link is closed.")
    expires_at = serializers.DateTimeField()
    amount_paid_minor = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, link) -> str | None:
        return link_url(link) if link.status == LinkStatus.OPEN else None


class RefundSerializer(serializers.Serializer):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="requested, pending, succeeded, failed, canceled or requires_action.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="Waco's reference, the one the customer quotes.")
    external_reference = serializers.CharField(help_text="The order system's own id; blank until set.")
    account = serializers.CharField(source="business_account.waba_id", help_text="The business account's WABA id.")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_history = StatusChangeSerializer(source="changes", many=True, help_text="Oldest first.")
    currency = serializers.CharField()
    total_minor = serializers.IntegerField()
    lines = OrderLineSerializer(many=True)
    customer = CustomerSerializer(source="contact")
    paid_at = serializers.DateTimeField(allow_null=True)
    carrier = serializers.CharField()
    tracking_url = serializers.CharField()
    cancel_reason = serializers.CharField()
    payment_links = PaymentLinkSerializer(many=True)
    refunds = RefundSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderWriteResultSerializer(OrderSerializer):
    """The order after a PATCH or an event, with what the request did to it."""

    result = serializers.ChoiceField(
        choices=["updated", "unchanged", "applied", "already_applied"],
        help_text="PATCH: updated or unchanged. Events: applied, or already_applied for a repeat (nothing redone).",
    )


class OrderFilterSerializer(serializers.Serializer):
    """GET /orders' query."""

    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    updated_since = serializers.DateTimeField(required=False, help_text="Orders changed at or after this time.")
    external_reference = serializers.CharField(required=False, max_length=100)


class OrderPatchSerializer(serializers.Serializer):
    external_reference = StrictCharField(
        max_length=100, allow_blank=True, help_text="Unique within the business account; blank clears it."
    )


# --- fulfilment events: one body per event, told apart by `event` ------------------


def _event_name(name: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[name], help_text="Which event; says which fields the body has.")


class PackedEventSerializer(serializers.Serializer):
    event = _event_name("packed")


class ShippedEventSerializer(serializers.Serializer):
    event = _event_name("shipped")
    carrier = StrictCharField(max_length=100)
    tracking_url = StrictURLField(max_length=1000, help_text="http or https.")

    def validate_tracking_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Must start with http:// or https://.")
        return value


class OutForDeliveryEventSerializer(serializers.Serializer):
    event = _event_name("out_for_delivery")


class DeliveredEventSerializer(serializers.Serializer):
    event = _event_name("delivered")


class CancelledEventSerializer(serializers.Serializer):
    event = _event_name("cancelled")
    reason = StrictCharField(max_length=255, help_text="The customer is told it.")


class RefundedEventSerializer(serializers.Serializer):
    event = _event_name("refunded")
    amount_minor = StrictIntegerField(
        min_value=1, required=False, help_text="Minor units of the order's currency; all that is left when absent."
    )
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


EVENT_SERIALIZERS = {
    "packed": PackedEventSerializer,
    "shipped": ShippedEventSerializer,
    "out_for_delivery": OutForDeliveryEventSerializer,
    "delivered": DeliveredEventSerializer,
    "cancelled": CancelledEventSerializer,
    "refunded": RefundedEventSerializer,
}


def event_serializer_for(data) -> serializers.Serializer:
    """The serializer of the body's `event`; a body without a known one is a validation error at /event."""
    name = data.get("event") if isinstance(data, dict) else None
    if not isinstance(name, str) or name not in EVENT_SERIALIZERS:
        raise serializers.ValidationError({"event": [f"Must be one of: {', '.join(EVENT_SERIALIZERS)}."]})
    return EVENT_SERIALIZERS[name](data=data)
