from django.contrib import admin

from waco.sandbox.models import Delivery, SandboxConfig, SentMessage, StripeCheckoutSession, StripeEvent, Template


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every webhook the sandbox owes Waco, with its attempts: why did Waco not get it?"""

    list_display = (
        "id",
        "kind",
        "status",
        "ref",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "gave_up_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("ref",)
    readonly_fields = [f.name for f in Delivery._meta.fields]


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):
    list_display = ("wamid", "to", "category", "created_at")
    search_fields = ("wamid", "to")
    readonly_fields = [f.name for f in SentMessage._meta.fields]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "category", "status", "review_due_at")
    list_filter = ("status", "category")


@admin.register(SandboxConfig)
class SandboxConfigAdmin(admin.ModelAdmin):
    list_display = ("id", "revision", "throttle_remaining", "updated_at")


@admin.register(StripeCheckoutSession)
class StripeCheckoutSessionAdmin(admin.ModelAdmin):
    """Stripe's side of each payment link, as Stripe's dashboard would show it."""

    list_display = ("session_id", "status", "payment_status", "amount_total", "currency", "expires_at")
    list_filter = ("status", "payment_status")
    search_fields = ("session_id", "client_reference_id")
    readonly_fields = [f.name for f in StripeCheckoutSession._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "created_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in StripeEvent._meta.fields]
