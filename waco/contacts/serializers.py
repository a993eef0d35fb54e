"""The contacts API's bodies and answers (waco.contacts.api)."""

from django.utils import timezone
from rest_framework import serializers

from waco.api.fields import StrictCharField
from waco.api.schema import ProblemErrorSerializer
from waco.contacts import validators
from waco.contacts.details import ContactDetails
from waco.contacts.models import ConsentAction, ConsentCategory

MAX_BATCH = 1000
# A consent act may be dated back (the customer ticked the box at checkout an hour ago), not forward.
CONSENT_CLOCK_SKEW = timezone.timedelta(minutes=5)


# ---- bodies


class ContactDetailsInSerializer(serializers.Serializer):
    """The merchant's details; PUT replaces them all (a field left out becomes empty)."""

    name = StrictCharField(max_length=256, allow_blank=True, default="", help_text="The merchant's name for them.")
    language = StrictCharField(
        max_length=15, allow_blank=True, default="", help_text="WhatsApp or BCP 47 code: en, en_US, pt-BR (kept pt_BR)."
    )
    time_zone = StrictCharField(
        max_length=64,
        allow_blank=True,
        default="",
        validators=[validators.validate_time_zone],
        help_text="IANA time zone: Asia/Dubai.",
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=validators.MAX_TAG_LENGTH),
        max_length=validators.MAX_TAGS,
        default=list,
        help_text="Repeats are dropped; order is kept.",
    )
    attributes = serializers.DictField(
        default=dict, help_text="A flat object: text, numbers, true/false or null per key (at most 50 keys)."
    )

    def validate_language(self, value: str) -> str:
        value = validators.language_normalise(value) if value else ""
        validators.validate_language(value)
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(tag.strip() for tag in value))

    def validate_attributes(self, value: dict) -> dict:
        validators.validate_attributes(value)
        return value

    def details(self) -> ContactDetails:
        return ContactDetails(**self.validated_data)


class ContactBatchItemSerializer(ContactDetailsInSerializer):
    contact = StrictCharField(max_length=255, help_text="wa_id, BSUID or phone number.")

    def details(self) -> ContactDetails:
        return ContactDetails(**{k: v for k, v in self.validated_data.items() if k != "contact"})


class ContactBatchSerializer(serializers.Serializer):
    """The batch as documented; each item is validated on its own (a bad one spoils nothing else)."""

    contacts = ContactBatchItemSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class ContactBatchEnvelopeSerializer(serializers.Serializer):
    contacts = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=MAX_BATCH)


class ConsentInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ConsentCategory.choices)
    action = serializers.ChoiceField(choices=ConsentAction.choices)
    source = StrictCharField(
        max_length=200, help_text="Where the storefront collected it, e.g. `checkout form` or an order reference."
    )
    proof = StrictCharField(
        max_length=4000, allow_blank=True, default="", help_text="What the customer agreed to and how, as shown."
    )
    recorded_at = serializers.DateTimeField(
        required=False, help_text="When the customer gave or withdrew it (default: now; never in the future)."
    )

    def validate_recorded_at(self, value):
        if value > timezone.now() + CONSENT_CLOCK_SKEW:
            raise serializers.ValidationError("Consent cannot be given in the future.")
        return value


# ---- answers


class ConsentStateSerializer(serializers.Serializer):
    granted = serializers.BooleanField(help_text="Business-initiated messages of this category may go.")
    action = serializers.ChoiceField(choices=ConsentAction.choices, allow_null=True)
    source = serializers.CharField(
        allow_null=True, help_text="Who recorded it: whatsapp, checkout, thread, api, admin."
    )
    reference = serializers.CharField(allow_null=True, help_text="For the API: the `source` the storefront gave.")
    proof = serializers.CharField(allow_null=True)
    recorded_at = serializers.DateTimeField(allow_null=True)


class ConsentByCategorySerializer(serializers.Serializer):
    utility = ConsentStateSerializer()
    marketing = ConsentStateSerializer()


class ServiceWindowSerializer(serializers.Serializer):
    account = serializers.CharField(source="phone_number.business_account.waba_id", help_text="The WABA id.")
    phone_number = serializers.CharField(source="phone_number.graph_id", help_text="The number's phone number id.")
    display_phone_number = serializers.CharField(source="phone_number.display_phone_number")
    open = serializers.SerializerMethodField(help_text="Free-form messages may go to the customer now.")
    open_until = serializers.DateTimeField()
    last_inbound_at = serializers.DateTimeField(help_text="The customer's newest message to this number.")

    def get_open(self, window) -> bool:
        return window.is_open(now=self.context["now"])


class ContactSerializer(serializers.Serializer):
    contact = serializers.CharField(help_text="How to name it in URLs: its wa_id, else its BSUID.")
    wa_id = serializers.CharField(allow_null=True)
    user_id = serializers.CharField(allow_null=True, help_text="The business-scoped user id (BSUID), if known.")
    username = serializers.CharField(help_text="The WhatsApp username, if any.")
    profile_name = serializers.CharField(help_text="The name WhatsApp shows (the customer's own).")
    name = serializers.CharField(help_text="The merchant's name for the customer.")
    language = serializers.CharField()
    time_zone = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField()
    known_as = serializers.ListField(
        child=serializers.CharField(), help_text="Numbers as sent that Meta knows under this wa_id (Brazil, Mexico)."
    )
    consent = ConsentByCategorySerializer()
    windows = ServiceWindowSerializer(many=True, help_text="Per number of the accounts the key may see.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ContactWriteResultSerializer(ContactSerializer):
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class ConsentEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=ConsentCategory.choices)
    action = serializers.ChoiceField(choices=ConsentAction.choices)
    source = serializers.CharField()
    reference = serializers.CharField()
    proof = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class ConsentResultSerializer(serializers.Serializer):
    contact = serializers.CharField()
    entry = ConsentEntrySerializer(help_text="The entry appended to the ledger.")
    consent = ConsentByCategorySerializer(help_text="Current consent after it (a later-dated entry still wins).")
    created = serializers.BooleanField(help_text="The contact was new (a phone number not seen before).")


class ContactBatchResultItemSerializer(serializers.Serializer):
    contact = serializers.CharField(allow_null=True, help_text="The identifier as given.")
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged", "invalid", "not_found"])
    wa_id = serializers.CharField(allow_null=True, required=False)
    user_id = serializers.CharField(allow_null=True, required=False)
    errors = ProblemErrorSerializer(many=True, required=False)


class ContactBatchResultSerializer(serializers.Serializer):
    results = ContactBatchResultItemSerializer(many=True, help_text="One per item, in the request's order.")
