from django import forms
from django.contrib import admin, messages
from django.db import models

from waco.channels import services
from waco.channels.models import BusinessAccount, PhoneNumber


class BusinessAccountForm(forms.ModelForm):
    # The stored token is never rendered back; typing a new one replaces it.
    access_token = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="System-user access token. Leave blank to keep the current one.",
    )

    class Meta:
        model = BusinessAccount
        fields = ["name", "waba_id", "access_token", "marketing_messages_api"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["access_token"].required = self.instance.pk is None
        self.initial["access_token"] = ""

    def clean_access_token(self):
        token = self.cleaned_data["access_token"].strip()
        if not token and self.instance.pk:
            return BusinessAccount.objects.get(pk=self.instance.pk).access_token
        return token


# What Meta owns of a number or an account: typed once when it is added (the ids Meta gave it), then
# kept by Meta's webhooks and polls (outbound.quality, channels.services.phone_number_record_health),
# never edited by hand. Staff change only what is theirs: the account's name, token and Marketing Messages
# API switch, pause and resume.
NUMBER_SET_ON_ADD = ["business_account", "graph_id", "display_phone_number", "verified_name"]
NUMBER_FROM_META = ["quality_rating", "throughput_mps", "quality_checked_at"]
ACCOUNT_SET_ON_ADD = ["waba_id"]
ACCOUNT_FROM_META = ["messaging_limit_tier"]


def number_has_history(number: PhoneNumber) -> bool:
    """Rows that keep the number (threads, outbound messages, orders: every relation that protects it)."""
    return any(
        relation.related_model._default_manager.filter(**{relation.field.name: number}).exists()
        for relation in PhoneNumber._meta.related_objects
        if relation.on_delete is models.PROTECT
    )


class PhoneNumberInline(admin.TabularInline):
    """The account's numbers, to read: a number is added, paused and resumed on its own page."""

    model = PhoneNumber
    extra = 0
    fields = ["graph_id", "display_phone_number", "quality_rating", "throughput_mps", "sending_paused"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BusinessAccount)
class BusinessAccountAdmin(admin.ModelAdmin):
    form = BusinessAccountForm
    list_display = [
        "name",
        "waba_id",
        "messaging_limit_tier",
        "marketing_messages_api",
        "access_token_hint",
        "updated_at",
    ]
    search_fields = ["name", "waba_id"]
    inlines = [PhoneNumberInline]

    def get_readonly_fields(self, request, obj=None):
        set_on_add = ACCOUNT_SET_ON_ADD if obj is not None else []
        return [*set_on_add, *ACCOUNT_FROM_META, "access_token_hint", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        fields = ["name", "waba_id", "access_token", "marketing_messages_api", *ACCOUNT_FROM_META, "access_token_hint"]
        if obj is not None:
            fields += ["created_at", "updated_at"]
        if self.has_change_permission(request, obj) or (obj is None and self.has_add_permission(request)):
            return fields
        # A view-only page shows every field as text: the token field would show the decrypted token.
        return [field for field in fields if field != "access_token"]

    @admin.display(description="access token")
    def access_token_hint(self, obj):
        return obj.access_token_hint

    def save_model(self, request, obj, form, change):
        new_token = form.cleaned_data["access_token"]
        token_changed = change and new_token != BusinessAccount.objects.get(pk=obj.pk).access_token
        super().save_model(request, obj, form, change)
        if token_changed:  # resumes numbers an expired token paused
            resumed = services.business_account_rotate_token(business_account=obj, access_token=new_token)
            if resumed:
                self.message_user(request, f"New token saved; resumed sending on {resumed} number(s).")


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = [
        "display_phone_number",
        "graph_id",
        "business_account",
        "quality_rating",
        "throughput_mps",
        "sending_paused",
        "sending_paused_reason",
    ]
    list_filter = ["quality_rating", "sending_paused", "business_account"]
    search_fields = ["display_phone_number", "graph_id", "verified_name"]
    fields = [
        *NUMBER_SET_ON_ADD,
        *NUMBER_FROM_META,
        *["sending_paused", "sending_paused_reason", "sending_paused_at"],
    ]
    actions = ["pause_sending", "resume_sending"]

    def get_readonly_fields(self, request, obj=None):
        set_on_add = NUMBER_SET_ON_ADD if obj is not None else []
        return [*set_on_add, *NUMBER_FROM_META, "sending_paused", "sending_paused_reason", "sending_paused_at"]

    def has_delete_permission(self, request, obj=None):
        """Never a number with history: its threads, messages and orders name it."""
        if obj is not None and number_has_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Pause sending from the selected numbers", permissions=["change"])
    def pause_sending(self, request, queryset):
        paused = sum(
            services.phone_number_pause_sending(phone_number=number, reason=f"Paused from the admin by {request.user}")
            for number in queryset
        )
        self.message_user(request, f"Paused {paused} number(s).", messages.SUCCESS)

    @admin.action(description="Resume sending from the selected numbers", permissions=["change"])
    def resume_sending(self, request, queryset):
        resumed = sum(services.phone_number_resume_sending(phone_number=n) for n in queryset)
        self.message_user(request, f"Resumed {resumed} number(s).", messages.SUCCESS)
