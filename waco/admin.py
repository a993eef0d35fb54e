"""Third-party admin pages re-registered so that every action declares the permission it needs
(tests/core/test_admin_walk.py fails on one that does not):

- django-axes' failed and locked log-ins (settings.AXES_ENABLE_ADMIN is off, so they are registered
  here only); unlocking a user is deleting their attempt row.
- django-celery-beat's periodic tasks: enabling, disabling or running a task needs the change
  permission, not only the view permission. This module runs after django_celery_beat's admin
  (INSTALLED_APPS order), so it can replace that registration.

And the admin's front: the menu (index and sidebar) leads with the conversations app, whose first
entry is the staff inbox, and the index leads with what waits for staff (`index_counts`).
"""

from dataclasses import dataclass

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

from checkout.models import Order, OrderStatus
from conversations import inbox
from waco.alerts.models import Alert

# The menu's first app and, in it, the first entry: the page staff live in.
MENU_FIRST_APP = "conversations"
MENU_FIRST_MODEL = "Inbox"


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        super().cleanup_expired_attempts(request, queryset)


admin.site.register(AccessLog, AccessLogAdmin)
admin.site.register(AccessFailureLog, AccessFailureLogAdmin)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        super().enable_tasks(request, queryset)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        super().disable_tasks(request, queryset)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        super().toggle_tasks(request, queryset)

    @admin.action(description="Run selected tasks", permissions=["change"])
    def run_tasks(self, request, queryset):
        super().run_tasks(request, queryset)


# --- the admin's front: the menu and the index's counts ------------------------------------

_django_app_list = admin.site.get_app_list


def app_list_inbox_first(request, app_label=None):
    """Django's app list (alphabetical), the conversations app first and the inbox first in it."""
    app_list = _django_app_list(request, app_label)
    app_list.sort(key=lambda app: app["app_label"] != MENU_FIRST_APP)  # stable: the others keep their order
    for app in app_list:
        if app["app_label"] == MENU_FIRST_APP:
            app["models"].sort(key=lambda model: model["object_name"] != MENU_FIRST_MODEL)
    return app_list


admin.site.get_app_list = app_list_inbox_first  # the index and every page's sidebar read it


@dataclass(frozen=True)
class IndexCount:
    key: str
    label: str
    count: int
    url: str


def index_counts(user) -> list[IndexCount]:
    """What waits for staff, each linking to the list that shows it; only what the user may see."""
    counts = []
    if user.has_perm("conversations.view_thread") or user.has_perm("conversations.change_thread"):
        to_reply = inbox.tab_count(user=user, tab="needs_reply")
        url = reverse("admin:conversations_inbox_changelist") + "?tab=needs_reply"
        counts.append(IndexCount("threads-to-reply", "threads to reply", to_reply, url))
    if user.has_perm("checkout.view_order") or user.has_perm("checkout.change_order"):
        orders = Order.objects.aggregate(
            pack=Count("pk", filter=Q(status=OrderStatus.PAID)), ship=Count("pk", filter=Q(status=OrderStatus.PACKED))
        )
        orders_url = reverse("admin:checkout_order_changelist")
        counts.append(
            IndexCount("orders-to-pack", "orders to pack", orders["pack"], f"{orders_url}?status__exact=paid")
        )
        counts.append(
            IndexCount("orders-to-ship", "orders to ship", orders["ship"], f"{orders_url}?status__exact=packed")
        )
    if user.has_perm("alerts.view_alert") or user.has_perm("alerts.change_alert"):
        url = reverse("admin:alerts_alert_changelist") + "?resolved_at__isempty=1"
        counts.append(
            IndexCount("open-alerts", "open alerts", Alert.objects.filter(resolved_at__isnull=True).count(), url)
        )
    return counts
