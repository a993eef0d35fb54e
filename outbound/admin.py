from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from outbound.models import Alert, MessageStatus, OutboundMessage, SendAttempt
from outbound.services import queue_for


class SendAttemptInline(admin.TabularInline):
    model = SendAttempt
    extra = 0
    fields = ["started_at", "duration_ms", "outcome", "wamid", "error_code", "error_class", "detail"]
    readonly_fields = fields
    can_delete = False


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
    list_display = ["id", "created_at", "recipient", "purpose", "category", "status", "template_name", "error_code"]
    list_filter = [NeedsPersonFilter, "status", "category", "purpose", "phone_number"]
    search_fields = ["recipient", "wamid", "dedupe_key"]
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    inlines = [SendAttemptInline]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-send the selected failed messages")
    def resend(self, request, queryset):
        from outbound.sending import outbox_ring

        count = queryset.filter(status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED, needs_person=False, next_attempt_at=timezone.now(), wamid=None, attempts=0
        )
        for category in set(queryset.values_list("category", flat=True)):
            transaction.on_commit(lambda c=category: outbox_ring(queue_for(c)))
        self.message_user(request, f"Queued {count} message(s) again.", messages.SUCCESS)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["opened_at", "severity", "kind", "subject", "resolved_at"]
    list_filter = ["severity", "kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "detail"]
    actions = ["resolve"]

    @admin.action(description="Mark the selected alerts resolved")
    def resolve(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"Resolved {count} alert(s).", messages.SUCCESS)
