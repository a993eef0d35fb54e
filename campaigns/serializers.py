"""The campaigns API's bodies (see campaigns.api): what POST /campaigns takes, a campaign with its totals,
and a recipient with its outcome.

Explicit fields only, so the OpenAPI schema says exactly what goes over the wire. What a body's values
mean together (an approved template, its parameters' sources, the segment's filters) is checked by
campaigns.services.campaign_create, whose errors come back as problems pointing at these fields.
"""

import re
from datetime import time

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus, SkipReason
from catalog.serializers import AwareDateTimeField
from waco.api.fields import StrictBooleanField, StrictCharField, StrictIntegerField

# Costs come from outbound.pricing's table, in its currency.
COST_CURRENCY = "USD"
# The transitions the API offers; "schedule" and "complete" are the admin's and the system's.
API_TRANSITIONS = ("start", "pause", "resume", "cancel")


def _from_renamed(fields: dict) -> dict:
    """`from` is a Python keyword: declared as `from_`, shown as `from` (as POST /messages names the number)."""
    return {("from" if name == "from_" else name): field for name, field in fields.items()}


LOCAL_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@extend_schema_field({"type": "string", "pattern": LOCAL_TIME.pattern, "example": "21:00"})
class LocalTimeField(serializers.Field):
    """A wall-clock time, HH:MM, in the recipient's zone: not OpenAPI's `time`, which needs a UTC offset."""

    default_error_messages = {"invalid": "A local time as HH:MM, e.g. 21:00."}

    def to_internal_value(self, data) -> time:
        if not isinstance(data, str) or not LOCAL_TIME.match(data):
            self.fail("invalid")
        return time.fromisoformat(data)

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


class QuietHoursSerializer(serializers.Serializer):
    start = LocalTimeField(help_text="No send from this local time (the recipient's zone), HH:MM, e.g. 21:00.")
    end = LocalTimeField(help_text="...up to this local time, e.g. 09:00.")


class CampaignCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    from_ = StrictCharField(
        max_length=64, required=False, help_text="The sending number's phone number id; default: the only number."
    )
    template = StrictCharField(max_length=512, help_text="An approved template of the number's account, by name.")
    language = StrictCharField(
        max_length=15, required=False, help_text="The template's language, e.g. en_US; needed when it has several."
    )
    transactional = StrictBooleanField(
        required=False, default=False, help_text="A transactional notice: required to send a utility template."
    )
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="Per template parameter, where its value comes from: "
        '{"source": "field", "key": "name"|"profile_name"|"username"|"wa_id"}, '
        '{"source": "attribute", "key": ...} or {"source": "constant", "value": ...}, each with an optional '
        'text "default" for a contact that lacks the value.',
    )
    segment = serializers.DictField(
        required=False,
        default=dict,
        help_text="The audience's filters, all of which must hold: tags_all, tags_any, attributes, countries, "
        "ordered_within_days, not_ordered_within_days, ordered_product_ids, ordered_category_ids, "
        "quiet_since_days. Empty: every contact. Consent for the template's category is always required.",
    )
    starts_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="No send before it: a started campaign waits for it. Null: sends once started.",
    )
    ends_at = AwareDateTimeField(required=False, allow_null=True, help_text="No send after it; null: until done.")
    quiet_hours = QuietHoursSerializer(required=False, help_text="Default: no send from 21:00 to 09:00 local time.")
    frequency_cap_hours = StrictIntegerField(
        required=False,
        default=24,
        min_value=1,
        max_value=24 * 365,
        help_text="At most one marketing message per customer in this many hours, across campaigns.",
    )

    def get_fields(self):
        return _from_renamed(super().get_fields())


class PauseSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=500, required=False, allow_blank=True, help_text="Why; kept as the campaign's paused_reason."
    )


class CampaignTemplateSerializer(serializers.Serializer):
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField(help_text="MARKETING or UTILITY.")


class TotalsSerializer(serializers.Serializer):
    """campaigns.outcomes.campaign_totals: counted by beat every few seconds, never per request."""

    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Recipients per status.")
    skipped = serializers.DictField(child=serializers.IntegerField(), help_text="Skipped recipients per reason.")
    cost = serializers.DecimalField(max_digits=16, decimal_places=6, help_text=f"Meta's charges, in {COST_CURRENCY}.")
    cost_currency = serializers.CharField()
    revenue_minor = serializers.IntegerField(help_text="The attributed orders' totals, in minor units.")
    counted_at = serializers.DateTimeField(allow_null=True, help_text="When they were counted; null: nothing yet.")


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign as GET /campaigns lists it."""

    account = serializers.CharField(source="business_account.waba_id", help_text="The business account's WABA id.")
    from_ = serializers.CharField(source="phone_number.graph_id", help_text="The sending number's phone number id.")
    template = CampaignTemplateSerializer()
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    paused_reason = serializers.CharField(help_text="Why it is paused (staff, the API or a safety trigger).")
    params = serializers.DictField()
    segment = serializers.DictField()
    quiet_hours = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "account", "from_", "name", "template", "transactional", "params", "segment", "status"]
        fields += ["paused_reason", "starts_at", "ends_at", "quiet_hours", "frequency_cap_hours"]
        fields += ["attribution_days", "created_at", "updated_at"]

    def get_fields(self):
        return _from_renamed(super().get_fields())

    @extend_schema_field(QuietHoursSerializer)
    def get_quiet_hours(self, campaign: Campaign) -> dict:
        return QuietHoursSerializer({"start": campaign.quiet_start, "end": campaign.quiet_end}).data


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its totals (the caller passes them in the context: campaigns.api.campaign_answer)."""

    totals = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "totals"]

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, campaign: Campaign) -> dict:
        return TotalsSerializer(self.context["totals"]).data


class CampaignFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)


class RecipientContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    wa_id = serializers.CharField(allow_null=True, help_text="Digits of the customer's number, when known.")
    bsuid = serializers.CharField(source="user_id", allow_null=True, help_text="Meta's business-scoped user id.")


class RecipientOrderSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="The attributed order's reference.")
    currency = serializers.CharField()


class RecipientSerializer(serializers.ModelSerializer):
    """One recipient and what became of its message."""

    contact = RecipientContactSerializer()
    status = serializers.ChoiceField(choices=RecipientStatus.choices)
    skip_reason = serializers.ChoiceField(
        choices=[("", "Not skipped"), *SkipReason.choices], help_text="Why it was skipped; blank otherwise."
    )
    error_code = serializers.IntegerField(allow_null=True, help_text="Meta's error code, when it failed.")
    error_title = serializers.CharField(help_text="Meta's error title, when it failed.")
    cost = serializers.DecimalField(
        max_digits=14, decimal_places=6, allow_null=True, help_text=f"What Meta charged, in {COST_CURRENCY}."
    )
    order = RecipientOrderSerializer(allow_null=True, help_text="The order attributed to the campaign message.")
    revenue_minor = serializers.IntegerField(allow_null=True, help_text="The attributed order's total, minor units.")

    class Meta:
        model = CampaignRecipient
        fields = ["id", "contact", "status", "skip_reason", "error_code", "error_title", "cost", "sent_at"]
        fields += ["status_at", "replied_at", "ordered_at", "order", "revenue_minor", "updated_at"]


class RecipientFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RecipientStatus.choices, required=False)
