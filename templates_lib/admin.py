"""Templates in the admin: lifecycle at a glance, history, submit and sync, purpose chains.

Everything Meta owns (status, quality, category changes, Meta's ids) is read-only
here; staff write drafts and revisions, and the actions call the services.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from templates_lib import services
from templates_lib.models import (
    REVISABLE_STATUSES,
    Purpose,
    PurposeTemplate,
    Template,
    TemplateAccount,
    TemplateStatusChange,
    TemplateSyncRun,
    TemplateVersion,
)
from templates_lib.params import TemplateDefinitionError, specs_check, specs_infer, specs_parse
from waco.cloud_api.errors import GraphError

META_OWNED = [
    "status",
    "current_version",
    "submit_started_at",
    "status_at",
    "rejection_reason",
    "quality",
    "quality_at",
    "category_pending",
    "category_at",
    "components_at",
    "meta_template_id",
    "last_error",
    "last_error_at",
    "created_at",
    "updated_at",
]


class TemplateForm(forms.ModelForm):
    components = forms.JSONField(help_text="The Graph API components list (HEADER, BODY, FOOTER, BUTTONS).")
    parameters = forms.JSONField(
        required=False,
        help_text='Declared parameters, e.g. [{"component": "body", "position": 1, "name": "customer", '
        '"type": "text"}]. Leave empty to declare every placeholder as text.',
    )

    class Meta:
        model = Template
        fields = ["business_account", "name", "language", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            self.initial.setdefault("components", version.components)
            self.initial.setdefault("parameters", version.parameters)

    def clean(self):
        cleaned = super().clean()
        components, parameters = cleaned.get("components"), cleaned.get("parameters")
        if components is None:
            return cleaned
        try:
            specs = specs_infer(components) if parameters in (None, "", []) else specs_parse(parameters)
            specs_check(specs, components)
        except TemplateDefinitionError as exc:
            raise ValidationError(str(exc)) from exc
        if parameters in ("", []):
            cleaned["parameters"] = None
        return cleaned


def _content_html(version: TemplateVersion) -> str:
    text = json.dumps({"components": version.components, "parameters": version.parameters}, indent=1)
    return format_html("<pre style='white-space: pre-wrap; max-width: 48em'>{}</pre>", text)


class StatusChangeInline(admin.TabularInline):
    model = TemplateStatusChange
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "from_state",
        "to_state",
        "transition",
        "cause",
        "detail",
        "actor",
        "version",
        "recorded_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    extra = 0
    can_delete = False
    fields = ["number", "source", "meta_template_id", "submitted_at", "created_at", "content"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="components and parameters")
    def content(self, obj):
        return _content_html(obj)


class PurposeLinkInline(admin.TabularInline):
    model = PurposeTemplate
    extra = 0
    fields = ["purpose", "position"]
    verbose_name = "purpose served"
    verbose_name_plural = "purposes served"


def _sync_accounts(modeladmin, request, accounts) -> None:
    for account in accounts:
        try:
            run = services.templates_sync(business_account=account, now=timezone.now())
        except GraphError as exc:
            modeladmin.message_user(request, f"{account}: sync failed: {exc}", messages.ERROR)
            continue
        modeladmin.message_user(
            request,
            f"{account}: {run.listed} listed by Meta, {run.created} new, {run.changed} changed.",
            messages.SUCCESS,
        )


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = [
        "name",
        "language",
        "status",
        "quality",
        "category",
        "reason",
        "purposes_served",
        "version_number",
        "account",
    ]
    list_filter = ["status", "quality", "category", "business_account"]
    search_fields = ["name", "meta_template_id"]
    list_select_related = ["business_account", "current_version"]
    inlines = [PurposeLinkInline, VersionInline, StatusChangeInline]
    actions = ["submit_for_review", "sync_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("purposes")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return META_OWNED
        return ["business_account", "name", "language", "category", *META_OWNED, "current_content"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status not in REVISABLE_STATUSES:
            # Meta holds it live: the content is shown, not edited (see template_revise).
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="reason")
    def reason(self, obj):
        """Meta's rejection reason, else the last Graph error of a submit."""
        text = obj.rejection_reason or obj.last_error
        return Truncator(text).chars(48) if text else "-"

    @admin.display(description="account", ordering="business_account__name")
    def account(self, obj):
        return obj.business_account.name

    @admin.display(description="purposes")
    def purposes_served(self, obj):
        return ", ".join(p.key for p in obj.purposes.all()) or "-"

    @admin.display(description="version")
    def version_number(self, obj):
        return obj.current_version.number if obj.current_version else "-"

    @admin.display(description="current content")
    def current_content(self, obj):
        return _content_html(obj.current_version) if obj.current_version else "-"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data  # the form checked the parameters against the components
        if not change:
            created = services.template_create_draft(
                business_account=data["business_account"],
                name=data["name"],
                language=data["language"],
                category=data["category"],
                components=data["components"],
                parameters=data.get("parameters"),
            )
            obj.pk, obj._state.adding = created.pk, False
            obj.refresh_from_db()
        elif "components" in data and self._content_changed(obj, data):
            try:
                services.template_revise(template=obj, components=data["components"], parameters=data.get("parameters"))
            except services.TemplateStateError as exc:  # Meta moved it on while the form was open
                self.message_user(request, f"Content not saved: {exc}", messages.ERROR)

    @staticmethod
    def _content_changed(obj, data) -> bool:
        version = obj.current_version
        parameters = data.get("parameters")
        return (
            version is None
            or version.components != data["components"]
            or (parameters is not None and parameters != version.parameters)
        )

    @admin.action(description="Submit for review (create at Meta)", permissions=["change"])
    def submit_for_review(self, request, queryset):
        for template in queryset:
            try:
                services.template_submit(template=template)
            except (services.TemplateStateError, services.TemplateSubmitError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{template}: submitted, now {template.status}.", messages.SUCCESS)

    @admin.action(description="Sync now from Meta (the accounts of the selected templates)", permissions=["change"])
    def sync_now(self, request, queryset):
        accounts = {template.business_account_id: template.business_account for template in queryset}
        _sync_accounts(self, request, accounts.values())


class ChainInline(admin.TabularInline):
    model = PurposeTemplate
    extra = 1
    fields = ["position", "template", "template_status"]
    readonly_fields = ["template_status"]
    autocomplete_fields = ["template"]
    ordering = ["template__business_account", "position", "id"]
    verbose_name = "template of the chain"
    verbose_name_plural = "chain (per business account, lowest position first)"

    @admin.display(description="status")
    def template_status(self, obj):
        if not obj.pk:
            return "-"
        return f"{obj.template.business_account.name}: {obj.template.get_status_display()}"


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["key", "category", "description", "chain"]
    search_fields = ["key", "description"]
    inlines = [ChainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("links__template")

    @admin.display(description="chain")
    def chain(self, obj):
        links = sorted(obj.links.all(), key=lambda link: (link.position, link.pk))
        return " → ".join(f"{link.template} ({link.template.status})" for link in links) or "-"


@admin.register(TemplateAccount)
class TemplateAccountAdmin(admin.ModelAdmin):
    """Business accounts as the templates app sees them: counts, the last sync, "sync now"."""

    list_display = ["name", "waba_id", "template_count", "last_sync"]
    search_fields = ["name", "waba_id"]
    actions = ["sync_now"]
    fields = ["name", "waba_id"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(template_count=Count("templates", distinct=True), last_sync=Max("template_syncs__started_at"))
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="templates", ordering="template_count")
    def template_count(self, obj):
        return obj.template_count

    @admin.display(description="last sync", ordering="last_sync")
    def last_sync(self, obj):
        return obj.last_sync or "never"

    @admin.action(description="Sync templates now from Meta", permissions=["change"])
    def sync_now(self, request, queryset):
        _sync_accounts(self, request, queryset)


@admin.register(TemplateSyncRun)
class TemplateSyncRunAdmin(admin.ModelAdmin):
    list_display = ["business_account", "started_at", "finished_at", "ok", "listed", "created", "changed", "error"]
    list_filter = ["ok", "business_account"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
