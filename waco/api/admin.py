from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from waco.api.keys import key_assign
from waco.api.models import ApiAudit, ApiKey
from waco.api.scopes import SCOPES


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "business_accounts", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "scope_list",
        "account_list",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    filter_horizontal = ["business_accounts"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("business_accounts")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit keeps pointing at the key

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return [*self.readonly_fields, "name", "scopes", "business_accounts", "expires_at"]
        return self.readonly_fields

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description="business accounts")
    def account_list(self, obj):
        return ", ".join(account.waba_id for account in obj.business_accounts.all()) or "all"

    def save_model(self, request, obj, form, change):
        if not change:
            # Rendered once by response_add, never stored (not even in a message, which a session would keep).
            obj.raw_key = key_assign(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Your new API key",
            "opts": self.opts,
            "key": obj,
            "raw_key": obj.raw_key,
        }
        return TemplateResponse(request, "admin/api/apikey/key_created.html", context)

    @admin.action(description="Revoke the selected keys (they stop working at once)", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(ApiAudit)
class ApiAuditAdmin(admin.ModelAdmin):
    list_display = ["created_at", "key", "method", "path", "status"]
    list_filter = ["method", "status"]
    search_fields = ["path", "key__name", "key__prefix"]
    list_select_related = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
