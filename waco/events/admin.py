from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from waco.events import services, signing
from waco.events.models import Delivery, DeliveryAttempt, Event, EventType, WebhookEndpoint

SECRET_TEMPLATE = "admin/events/webhookendpoint/secret_once.html"


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "business_accounts", "enabled"]

    def clean(self):
        cleaned = super().clean()
        if "url" in cleaned and "event_types" in cleaned:
            try:
                services.endpoint_check(url=cleaned["url"], event_types=cleaned["event_types"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned


def _secret_page(request, model_admin, endpoints_with_secrets, title):
    """The only page that ever shows a secret: rendered in the response, never stored in a message or log."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "rows": endpoints_with_secrets,
    }
    response = TemplateResponse(request, SECRET_TEMPLATE, context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "enabled", "types", "failing_since", "disabled_reason"]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    readonly_fields = ["failing_since", "disabled_reason", "previous_secret_expires_at", "created_at", "updated_at"]
    filter_horizontal = ["business_accounts"]
    actions = ["rotate_secret"]

    @admin.display(description="event types")
    def types(self, obj):
        return ", ".join(obj.event_types)

    def save_model(self, request, obj, form, change):
        was_enabled = change and WebhookEndpoint.objects.filter(pk=obj.pk, enabled=True).exists()
        if not change:
            obj.secret = signing.secret_new()
            request._endpoint_secret = obj.secret  # shown once by response_add
        elif obj.enabled and not was_enabled:  # turned back on: its failures count afresh
            obj.failing_since, obj.disabled_reason = None, ""
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_endpoint_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_page(request, self, [(obj, secret)], "Endpoint created: copy its signing secret now")

    @admin.action(description="Rotate the signing secret (the old one signs too for 24 hours)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        rows = [(endpoint, services.endpoint_rotate(endpoint=endpoint)) for endpoint in queryset]
        self.message_user(request, f"Rotated {len(rows)} secret(s).", messages.SUCCESS)
        return _secret_page(request, self, rows, "New signing secrets: copy them now")


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["endpoint", "state", "replay", "attempts", "next_attempt_at", "delivered_at", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "subject", "sequence", "business_account", "created_at"]
    list_filter = ["type", "business_account"]
    search_fields = ["=id", "subject"]
    date_hierarchy = "created_at"
    fields = ["id", "type", "subject", "sequence", "business_account", "created_at", "body", "attempts"]
    readonly_fields = fields
    inlines = [DeliveryInline]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_replay_permission(self, request):
        return request.user.has_perm("events.replay_event")

    @admin.display(description="attempts")
    def attempts(self, obj):
        rows = DeliveryAttempt.objects.filter(delivery__event=obj).select_related("delivery__endpoint")
        if not rows:
            return "none yet"
        return format_html(
            "<table><tr><th>endpoint</th><th>started</th><th>status</th><th>ms</th><th>error or answer</th></tr>{}"
            "</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        a.delivery.endpoint.url,
                        a.started_at,
                        a.status_code or ("no outcome" if a.finished_at is None else "-"),
                        a.latency_ms if a.latency_ms is not None else "",
                        a.error or a.response_excerpt,
                    )
                    for a in rows
                ),
            ),
        )

    @admin.action(
        description="Replay to the endpoints subscribed now (same id, fresh signature)", permissions=["replay"]
    )
    def replay(self, request, queryset):
        made = services.events_replay(events=queryset.order_by("id"))
        self.message_user(request, f"Replaying {queryset.count()} event(s): {made} delivery(ies) queued.")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "finished_at", "status_code", "latency_ms", "response_excerpt", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "state", "replay", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["state", "replay", "endpoint"]
    search_fields = ["=event__id", "event__subject"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "event",
        "endpoint",
        "state",
        "replay",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "last_error",
    ]
    fields = readonly_fields
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
