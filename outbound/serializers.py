"""What POST /messages takes and what /messages answers (see outbound.api)."""

from django.core.validators import validate_slug
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from outbound.models import GraphEdge, MessageCategory, MessageStatus, OutboundMessage
from outbound.send_requests import API_SUBJECT, SendRequest
from waco.api.fields import StrictCharField
from waco.cloud_api.errors import ErrorClass

# A failure's short title by its class; the detail says the rest.
ERROR_TITLES = {
    "policy": "Refused by the send policy",
    ErrorClass.RATE: "Rate-limited by Meta",
    ErrorClass.TRANSIENT: "Meta's service failed",
    ErrorClass.LATER: "Per-user marketing limit reached",
    ErrorClass.WINDOW: "Service window closed",
    ErrorClass.TEMPLATE: "Template refused",
    ErrorClass.RECIPIENT: "The recipient cannot receive it",
    ErrorClass.REQUEST: "Meta refused the request",
    ErrorClass.AUTH: "The account's token was refused",
    ErrorClass.INTEGRITY: "Meta's integrity block",
    ErrorClass.UNCLASSIFIED: "Meta refused it",
}


class MessageSendSerializer(serializers.Serializer):
    """Exactly one of `purpose`, `template` and `text`."""

    to = StrictCharField(max_length=255, help_text="The customer: wa_id, BSUID (CC.digits) or phone number.")
    # `from` is a Python keyword: declared as `from_`, renamed by get_fields.
    from_ = StrictCharField(
        max_length=64, required=False, allow_blank=True, help_text="Phone number id; default: the only number."
    )
    purpose = StrictCharField(
        max_length=64, required=False, validators=[validate_slug], help_text="e.g. order_update: its template chain."
    )
    template = StrictCharField(max_length=512, required=False, help_text="A template's name.")
    language = StrictCharField(max_length=15, required=False, help_text="The template's language, e.g. en_US.")
    parameters = serializers.DictField(
        required=False, default=dict, help_text='Named parameters of the template, e.g. {"order_id": "W7K3"}.'
    )
    text = StrictCharField(max_length=4096, required=False, help_text="Free-form, inside the service window.")
    reference = StrictCharField(
        max_length=100, required=False, help_text="Your id for this message: the same reference never sends twice."
    )

    def get_fields(self):
        return _from_renamed(super().get_fields())

    def validate(self, attrs):
        given = [name for name in ("purpose", "template", "text") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError("give exactly one of purpose, template and text")
        if attrs.get("language") and not attrs.get("template"):
            raise serializers.ValidationError({"language": "only a template takes a language"})
        return attrs

    def send_request(self) -> SendRequest:
        data = self.validated_data
        return SendRequest(
            to=data["to"],
            from_number=data.get("from", ""),
            purpose=data.get("purpose", ""),
            template=data.get("template", ""),
            language=data.get("language", ""),
            params=data.get("parameters", {}),
            text=data.get("text", ""),
            reference=data.get("reference", ""),
        )


class DecisionSerializer(serializers.Serializer):
    """How the policy decided to send it."""

    kind = serializers.ChoiceField(choices=["template", "free_form"])
    template = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)

    def to_representation(self, message: OutboundMessage):
        if not message.template_name:
            return {"kind": "free_form", "template": None, "language": None, "version": None}
        language = message.content.get("template", {}).get("language", {}).get("code")
        return {
            "kind": "template",
            "template": message.template_name,
            "language": language,
            "version": message.template_version,
        }


class StepTimesSerializer(serializers.Serializer):
    queued = serializers.DateTimeField(source="created_at")
    sent = serializers.DateTimeField(source="sent_at", allow_null=True)
    delivered = serializers.DateTimeField(source="delivered_at", allow_null=True)
    read = serializers.DateTimeField(source="read_at", allow_null=True)
    failed = serializers.DateTimeField(source="failed_at", allow_null=True)


class MessageErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField(source="error_code", allow_null=True, help_text="Meta's error code, if Meta's.")
    title = serializers.SerializerMethodField()
    detail = serializers.CharField(source="error_detail")

    def get_title(self, message: OutboundMessage) -> str:
        return ERROR_TITLES.get(message.error_class, "Not sent")


class MessageSerializer(serializers.ModelSerializer):
    """A message as GET /messages shows it."""

    account = serializers.CharField(source="phone_number.business_account.waba_id")
    from_ = serializers.CharField(source="phone_number.graph_id")
    to = serializers.CharField(source="recipient")
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    category = serializers.ChoiceField(choices=MessageCategory.choices)
    reference = serializers.SerializerMethodField()
    decision = DecisionSerializer(source="*")
    times = StepTimesSerializer(source="*")
    error = serializers.SerializerMethodField()
    edge = serializers.SerializerMethodField(
        help_text="The Graph edge the message was sent to (messages, or marketing_messages for a marketing "
        "template of an account using Meta's Marketing Messages API); null before its first send."
    )

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "account",
            "from_",
            "to",
            "status",
            "category",
            "purpose",
            "reference",
            "decision",
            "times",
            "error",
            "edge",
            "updated_at",
        ]

    def get_fields(self):
        return _from_renamed(super().get_fields())

    def get_reference(self, message: OutboundMessage) -> str | None:
        return message.subject_id if message.subject_type == API_SUBJECT else None

    @extend_schema_field(serializers.ChoiceField(choices=GraphEdge.choices, allow_null=True))
    def get_edge(self, message: OutboundMessage) -> str | None:
        return message.graph_edge or None

    @extend_schema_field(MessageErrorSerializer(allow_null=True))
    def get_error(self, message: OutboundMessage) -> dict | None:
        if message.status != MessageStatus.FAILED:
            return None
        return MessageErrorSerializer(message).data


class MessageQueuedSerializer(MessageSerializer):
    """The answer to POST /messages: the message, and whether the reference named an earlier one."""

    duplicate = serializers.SerializerMethodField(
        help_text="True: this reference was queued before, and nothing new was queued."
    )

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "duplicate"]

    def get_duplicate(self, message: OutboundMessage) -> bool:
        return self.context.get("duplicate", False)


def _from_renamed(fields: dict) -> dict:
    """`from` is a Python keyword: declared as `from_`, shown as `from`, in place."""
    return {("from" if name == "from_" else name): field for name, field in fields.items()}
