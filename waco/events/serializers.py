"""Bodies of /api/v1/webhook-endpoints and /api/v1/events."""

from rest_framework import serializers

from waco.api.fields import StrictBooleanField, StrictCharField, StrictURLField
from waco.events.models import EventType, WebhookEndpoint


class EndpointWriteSerializer(serializers.Serializer):
    url = StrictURLField(max_length=2000, help_text="https in production, to a public address.")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False)
    accounts = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        help_text="WABA ids whose events it receives; omitted or empty: every account the key can see.",
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    enabled = StrictBooleanField(required=False)


class EndpointSerializer(serializers.ModelSerializer):
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "accounts",
            "enabled",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]

    def get_accounts(self, endpoint) -> list[str]:
        return sorted(account.waba_id for account in endpoint.business_accounts.all())


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown in this answer only: Waco never shows it again.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class EventQuerySerializer(serializers.Serializer):
    after = serializers.RegexField(r"^evt_[0-9A-Z]{26}$", required=False, help_text="The last event id you have.")
    type = serializers.ChoiceField(choices=EventType.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)


class EventBodySerializer(serializers.Serializer):
    """An event exactly as its deliveries post it."""

    id = serializers.CharField()
    type = serializers.ChoiceField(choices=EventType.choices)
    timestamp = serializers.DateTimeField()
    subject = serializers.CharField()
    sequence = serializers.IntegerField()
    data = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EventBodySerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page (`after` = the last id here), or null.")
