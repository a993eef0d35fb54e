from django.contrib import admin, messages
from django.utils import timezone

from waco.alerts.models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["opened_at", "severity", "kind", "subject", "resolved_at"]
    list_filter = ["severity", "kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "detail"]
    actions = ["resolve"]

    @admin.action(description="Mark the selected alerts resolved", permissions=["change"])
    def resolve(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"Resolved {count} alert(s).", messages.SUCCESS)
