from django.contrib import admin
from django.utils import timezone

from waco.contacts import services
from waco.contacts.models import ConsentEntry, ConsentSource, Contact, ContactAlias, ServiceWindow


class ConsentEntryInline(admin.TabularInline):
    """The ledger as history: corrections are new entries, added from the consent entries page."""

    model = ConsentEntry
    extra = 0
    fields = ["category", "action", "source", "recorded_at", "reference", "proof"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    extra = 0
    fields = ["phone_number", "last_inbound_at", "open_until", "is_open_now"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # windows are Meta's facts, opened by the customer's messages

    def has_change_permission(self, request, obj=None):
        return False  # nor edited: no form of theirs is posted, so no empty or tampered row is ever read

    @admin.display(description="open until")
    def open_until(self, obj):
        return obj.open_until if obj is not None and obj.last_inbound_at else None

    @admin.display(boolean=True, description="open now")
    def is_open_now(self, obj):
        return obj.is_open(now=timezone.now()) if obj is not None and obj.last_inbound_at else None


class ContactAliasInline(admin.TabularInline):
    """Numbers as the storefront sent them that Meta knows under the contact's wa_id."""

    model = ContactAlias
    extra = 0
    fields = ["wa_id", "wamid", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # learned from Meta's send answers (waco.contacts.wa_ids)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["profile_name", "name", "wa_id", "user_id", "created_at"]
    search_fields = ["profile_name", "name", "wa_id", "user_id", "username", "aliases__wa_id"]
    fields = [
        *["wa_id", "user_id", "parent_user_id", "username", "profile_name"],  # what WhatsApp says
        *["name", "language", "time_zone", "tags", "attributes"],  # what the merchant says
        *["created_at", "updated_at"],
    ]
    readonly_fields = ["wa_id", "user_id", "parent_user_id", "username", "profile_name", "created_at", "updated_at"]
    inlines = [ContactAliasInline, ConsentEntryInline, ServiceWindowInline]


@admin.register(ConsentEntry)
class ConsentEntryAdmin(admin.ModelAdmin):
    """Append-only: an entry is never edited or deleted; a correction is a new entry (source admin)."""

    list_display = ["contact", "category", "action", "source", "recorded_at", "reference"]
    list_filter = ["category", "action", "source"]
    search_fields = ["contact__wa_id", "contact__user_id", "reference"]
    autocomplete_fields = ["contact"]
    fields = ["contact", "category", "action", "recorded_at", "reference", "proof"]

    def get_changeform_initial_data(self, request):
        return {"recorded_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        return ["source", *self.fields] if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["source", *self.fields] if obj is not None else self.fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        entry = services.consent_record(
            contact=data["contact"],
            category=data["category"],
            action=data["action"],
            source=ConsentSource.ADMIN,
            recorded_at=data["recorded_at"],
            reference=data["reference"] or f"by {request.user.get_username()}",
            proof=data["proof"],
        )
        obj.pk, obj._state.adding = entry.pk, False
