from django.contrib import admin
from django.utils import timezone

from waco.contacts.models import ConsentEntry, Contact, ServiceWindow


class ConsentEntryInline(admin.TabularInline):
    model = ConsentEntry
    extra = 0
    fields = ["category", "action", "source", "recorded_at", "reference"]
    readonly_fields = fields
    can_delete = False


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    extra = 0
    fields = ["phone_number", "last_inbound_at", "open_until", "is_open_now"]
    readonly_fields = fields
    can_delete = False

    @admin.display(boolean=True, description="open now")
    def is_open_now(self, obj):
        return obj.is_open(now=timezone.now())


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["profile_name", "wa_id", "user_id", "created_at"]
    search_fields = ["profile_name", "wa_id", "user_id", "username"]
    readonly_fields = ["wa_id", "user_id", "parent_user_id", "username", "created_at", "updated_at"]
    inlines = [ConsentEntryInline, ServiceWindowInline]


@admin.register(ConsentEntry)
class ConsentEntryAdmin(admin.ModelAdmin):
    list_display = ["contact", "category", "action", "source", "recorded_at"]
    list_filter = ["category", "action", "source"]
    search_fields = ["contact__wa_id", "contact__user_id", "reference"]
    autocomplete_fields = ["contact"]
