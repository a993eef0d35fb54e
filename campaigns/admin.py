"""Campaigns in the admin, read-mostly for now: the list with recipient counts by status (one
annotated query), a campaign's history on its page, and the recipients read-only.

The new-campaign form (the add view, for staff with add_campaign), the preview, the status buttons
and the live progress are campaigns.admin_views.CampaignAdminPages, mixed in."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import StreamingHttpResponse

from campaigns.admin_views import CampaignAdminPages
from campaigns.export import recipients_csv
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
class CampaignAdmin(CampaignAdminPages, admin.ModelAdmin):
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
    actions = ["export_recipients_csv"]

    # A bulk export of customers' ids: for who runs campaigns, not for a view-only support agent.
    @admin.action(description="Export the recipients as CSV", permissions=["change"])
    def export_recipients_csv(self, request, queryset):
        """Streamed, one campaign at a time (its recipients are read in chunks, never held in memory)."""
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(request, "Choose one campaign to export.", level=messages.WARNING)
            return None
        campaign = Campaign.objects.get(pk=chosen[0])
        response = StreamingHttpResponse(recipients_csv(campaign), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-recipients.csv"'
        return response

    def get_queryset(self, request):
        counts = {f"{s}_total": Count("recipients", filter=Q(recipients__status=s)) for s in COUNTED}
        return super().get_queryset(request).annotate(**counts)

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
