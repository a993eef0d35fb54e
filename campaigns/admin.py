"""Campaigns in the admin, read-mostly for now: the list with recipient counts by status (one
annotated query), a campaign's history on its page, and the recipients read-only.

Creating, previewing and the status buttons come with the admin's campaign form (issue 19)."""

from django.contrib import admin
from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignChange, CampaignRecipient, RecipientStatus

COUNTED = (RecipientStatus.PENDING, RecipientStatus.SKIPPED, RecipientStatus.SENT, RecipientStatus.FAILED)


class CampaignChangeInline(admin.TabularInline):
    model = CampaignChange
    fields = ["created_at", "transition", "from_state", "to_state", "cause", "actor", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "status change"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "template", "phone_number", "starts_at", *(f"{s}_count" for s in COUNTED)]
    list_filter = ["status", "phone_number"]
    search_fields = ["name", "template__name"]
    list_select_related = ["template", "phone_number"]
    fields = [
        "name",
        "business_account",
        "phone_number",
        "template",
        "transactional",
        "audience",
        "segment",
        "params",
        "status",
        "paused_reason",
        "starts_at",
        "ends_at",
        "quiet_start",
        "quiet_end",
        "frequency_cap_hours",
        "expanded_through",
        "expansion_done",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [CampaignChangeInline]

    def get_queryset(self, request):
        counts = {f"{s}_total": Count("recipients", filter=Q(recipients__status=s)) for s in COUNTED}
        return super().get_queryset(request).annotate(**counts)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="pending", ordering="pending_total")
    def pending_count(self, obj):
        return obj.pending_total

    @admin.display(description="skipped", ordering="skipped_total")
    def skipped_count(self, obj):
        return obj.skipped_total

    @admin.display(description="sent", ordering="sent_total")
    def sent_count(self, obj):
        return obj.sent_total

    @admin.display(description="failed", ordering="failed_total")
    def failed_count(self, obj):
        return obj.failed_total


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(admin.ModelAdmin):
    list_display = ["contact", "campaign", "status", "skip_reason", "error_code", "cost", "updated_at"]
    list_filter = ["status", "skip_reason"]
    search_fields = ["contact__wa_id", "contact__user_id", "campaign__name"]
    list_select_related = ["contact", "campaign"]
    raw_id_fields = ["contact", "message", "order"]
    readonly_fields = [
        "campaign",
        "contact",
        "status",
        "skip_reason",
        "params",
        "message",
        "error_code",
        "error_title",
        "cost",
        "order",
        "revenue_minor",
        "created_at",
        "updated_at",
        "sent_at",
        "status_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
