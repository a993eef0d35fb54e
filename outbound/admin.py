from django.contrib import admin, messages

from outbound.models import CountryPricingMarket, MessageStatus, OutboundMessage, PriceRate, SendAttempt
from outbound.services import messages_resend


class SendAttemptInline(admin.TabularInline):
    """Each call to Meta, with the wamid it got: details, folded (the message's own error is on top)."""

    model = SendAttempt
    extra = 0
    classes = ["collapse"]
    verbose_name_plural = "send attempts (details)"
    fields = ["started_at", "duration_ms", "outcome", "wamid", "error_code", "error_class", "detail"]
    readonly_fields = fields
    can_delete = False


# What a person reading the page rarely needs: the raw payload, Meta's and our internal ids, billing.
MESSAGE_DETAILS = [
    "content",
    "template_params",
    "wamid",
    "dedupe_key",
    "pricing_model",
    "pricing_type",
    "pricing_category",
]


class NeedsPersonFilter(admin.SimpleListFilter):
    title = "needs a person"
    parameter_name = "needs_person"

    def lookups(self, request, model_admin):
        return [("yes", "Failed, a person must act")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=MessageStatus.FAILED, needs_person=True)
        return queryset


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "recipient",
        "purpose",
        "category",
        "status",
        "template_name",
        "error_code",
        "subject",
    ]
    list_filter = [NeedsPersonFilter, "status", "category", "purpose", "subject_type", "phone_number"]
    search_fields = ["recipient", "wamid", "dedupe_key", "=subject_id"]
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    fieldsets = [
        (None, {"fields": [f for f in readonly_fields if f not in MESSAGE_DETAILS]}),
        ("Details", {"classes": ["collapse"], "fields": MESSAGE_DETAILS}),
    ]
    inlines = [SendAttemptInline]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what the customer was sent (or was not), and why

    @admin.display(description="about", ordering="subject_type")
    def subject(self, obj):
        return f"{obj.subject_type} {obj.subject_id}" if obj.subject_type else "-"

    @admin.action(description="Re-send the selected failed messages", permissions=["change"])
    def resend(self, request, queryset):
        """Through the same policy as a fresh send: a message the policy now refuses stays failed, with why."""
        result = messages_resend(messages=queryset)
        self.message_user(request, f"Queued {result.queued} message(s) again.", messages.SUCCESS)
        if result.refused:
            self.message_user(
                request,
                f"{result.refused} message(s) refused by the send policy now; see each message's error.",
                messages.WARNING,
            )


@admin.register(PriceRate)
class PriceRateAdmin(admin.ModelAdmin):
    """Meta's rate cards as data: a change is a new row from its date, so past costs keep their rates."""

    list_display = ["market", "category", "currency", "effective_from", "tier_from", "rate"]
    list_filter = ["category", "currency", "effective_from", "market"]
    search_fields = ["market"]
    date_hierarchy = "effective_from"


@admin.register(CountryPricingMarket)
class CountryPricingMarketAdmin(admin.ModelAdmin):
    """Which market of Meta's cards a country's numbers are billed under; a country with no row is "Other"."""

    list_display = ["country_code", "market", "effective_from"]
    list_filter = ["market", "effective_from"]
    search_fields = ["=country_code", "market"]
