from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars
from django.utils import timezone
from django.utils.html import format_html

from waco.alerts.models import Alert

ALERT_FIELDS = ["kind", "severity", "subject", "summary", "open_link", "opened_at", "acknowledged_at", "resolved_at"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts are raised by the code and resolved by staff (the action); never edited or deleted."""

    list_display = ["opened_at", "severity", "kind", "subject", "open_link", "acknowledged_at", "resolved_at"]
    list_filter = ["severity", "kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "detail"]
    fieldsets = [
        (None, {"fields": ALERT_FIELDS}),
        # The full text often carries raw answers, ids and bodies: folded, one click away.
        ("Details", {"classes": ["collapse"], "fields": ["detail"]}),
    ]
    readonly_fields = [*ALERT_FIELDS, "detail"]
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False  # raised by the code (waco.alerts.services.alert_raise)

    def has_delete_permission(self, request, obj=None):
        return False  # resolved, never deleted: the list is the shop's record of what went wrong

    @admin.display(description="link")
    def open_link(self, obj):
        """Only a path in this site is a link: nothing stored can send staff elsewhere."""
        if obj.link.startswith("/") and not obj.link.startswith("//"):
            return format_html('<a href="{}" class="alert-link">Open</a>', obj.link)
        return obj.link or "-"

    @admin.display(description="summary")
    def summary(self, obj):
        return truncatechars((obj.detail or "").strip().split("\n", 1)[0], 160) or "-"

    @admin.action(description="Mark the selected alerts resolved", permissions=["change"])
    def resolve(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"Resolved {count} alert(s).", messages.SUCCESS)
