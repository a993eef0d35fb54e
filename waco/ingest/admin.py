import json

from django.contrib import admin, messages
from django.utils.html import format_html

from waco.ingest import inbox
from waco.ingest.models import UNROUTED_OUTCOMES, Delivery, DeliveryStatus, InboxEvent


class InboxEventInline(admin.TabularInline):
    model = InboxEvent
    extra = 0
    fields = ["kind", "dedupe_key", "phone_number_id", "outcome", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "status", "received_at", "attempts", "short_error"]
    list_filter = ["status", "source"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "source",
        "status",
        "received_at",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "last_error",
        "headers",
        "pretty_body",
    ]
    fieldsets = [
        (None, {"fields": readonly_fields[:7]}),
        # The raw request as Meta or Stripe sent it: folded, one click away.
        ("Details", {"classes": ["collapse"], "fields": ["headers", "pretty_body"]}),
    ]
    inlines = [InboxEventInline]
    actions = ["rerun"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.last_error or "")[:80]

    @admin.display(description="body")
    def pretty_body(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text)

    @admin.action(description="Re-run the selected deliveries", permissions=["change"])
    def rerun(self, request, queryset):
        count = 0
        for delivery in queryset.exclude(status=DeliveryStatus.DONE):
            inbox.delivery_rerun(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} delivery(ies) again.", messages.SUCCESS)


class UnroutedFilter(admin.SimpleListFilter):
    title = "routing"
    parameter_name = "routing"

    def lookups(self, request, model_admin):
        return [("unrouted", "Unrouted"), ("applied", "Applied")]

    def queryset(self, request, queryset):
        if self.value() == "unrouted":
            return queryset.filter(outcome__in=UNROUTED_OUTCOMES)
        if self.value() == "applied":
            return queryset.exclude(outcome__in=UNROUTED_OUTCOMES)
        return queryset


@admin.register(InboxEvent)
class InboxEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "kind", "phone_number_id", "outcome", "dedupe_key"]
    list_filter = [UnroutedFilter, "outcome", "source", "kind"]
    search_fields = ["dedupe_key", "phone_number_id"]
    readonly_fields = [f.name for f in InboxEvent._meta.fields]
    fieldsets = [
        (None, {"fields": [f for f in readonly_fields if f != "raw"]}),
        ("Details", {"classes": ["collapse"], "fields": ["raw"]}),
    ]

    def has_add_permission(self, request):
        return False
