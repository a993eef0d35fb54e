"""Orders in the admin: read the order, its payments, refunds, history and messages; report fulfilment.

Thin: every change goes through checkout.fulfilment.fulfilment_apply; this module
parses form input and shows what came of it. Orders are never created, edited
or deleted here. No card data exists to show: Stripe keeps it.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django_fsm import can_proceed

from catalog.money import amount_format, amount_parse
from checkout.fulfilment import CANCEL_REFUNDS_FROM, EVENTS, FulfilmentRefused, fulfilment_apply
from checkout.models import Order
from checkout.services import TRANSITIONS
from checkout.signals import ORDER_SUBJECT
from outbound.selectors import messages_about

ORDER_FIELDS = [
    "reference",
    "external_reference",
    "contact",
    "phone_number",
    "status",
    "total",
    "paid_at",
    "carrier",
    "tracking_url",
    "cancel_reason",
    "created_at",
    "updated_at",
]
# The buttons of the change page, in the order a parcel meets them.
EVENT_LABELS = {
    "packed": "Mark packed",
    "shipped": "Mark shipped",
    "out_for_delivery": "Mark out for delivery",
    "delivered": "Mark delivered",
    "cancelled": "Cancel the order",
    "refunded": "Refund",
}


def events_fitting(order: Order) -> list[str]:
    """The fulfilment events the order's status allows now (the page offers only these)."""
    return [event for event in EVENTS if can_proceed(TRANSITIONS[EVENTS[event]].__get__(order, Order))]


def event_moves_money(order: Order, event: str) -> bool:
    """A refund, or a cancel that refunds the payment: only staff who may refund (the owner) do these."""
    return event == "refunded" or (event == "cancelled" and order.status in CANCEL_REFUNDS_FROM)


def order_messages(order: Order):
    """What was sent to the customer about this order: the messages whose subject is the order."""
    return messages_about(subject_type=ORDER_SUBJECT, subject_id=order.reference)


def message_text(content: dict) -> str:
    """What the customer read: the text, the interactive body, or the template's name."""
    kind = content.get("type", "")
    if kind == "text":
        return content["text"].get("body", "")
    if kind == "interactive":
        return content["interactive"].get("body", {}).get("text", "")
    if kind == "template":
        return f"template {content['template'].get('name', '')}"
    return kind


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "contact", "status", "total", "created_at", "paid_at"]
    list_filter = ["status", "phone_number", "created_at"]
    search_fields = ["reference", "external_reference", "contact__wa_id", "contact__profile_name"]
    list_select_related = ["contact"]
    date_hierarchy = "created_at"
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    actions = ["mark_packed", "mark_out_for_delivery", "mark_delivered"]
    change_form_template = "admin/checkout/order/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request, obj=None):
        return request.user.has_perm("checkout.refund_order")

    @admin.display(description="total", ordering="total_minor")
    def total(self, obj):
        return amount_format(obj.total_minor, obj.currency)

    # --- list actions: the events that need no input, through the same service

    @admin.action(description="Mark packed", permissions=["change"])
    def mark_packed(self, request, queryset):
        self._apply_to_each(request, queryset, "packed")

    @admin.action(description="Mark out for delivery", permissions=["change"])
    def mark_out_for_delivery(self, request, queryset):
        self._apply_to_each(request, queryset, "out_for_delivery")

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._apply_to_each(request, queryset, "delivered")

    def _apply_to_each(self, request, queryset, event: str) -> None:
        done = 0
        for order in queryset:
            try:
                fulfilment_apply(
                    order=order, event=event, by="staff", by_name=request.user.get_username(), actor=request.user
                )
            except FulfilmentRefused as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{EVENT_LABELS[event]}: {done} order(s).", messages.SUCCESS)

    # --- the change page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        if order is not None:
            extra_context = {**(extra_context or {}), **self._order_context(request, order)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _order_context(self, request, order: Order) -> dict:
        def money(minor: int | None) -> str:
            return amount_format(minor, order.currency) if minor is not None else "-"

        return {
            "order": order,
            "can_act": self.has_change_permission(request, order),
            "events": [
                (event, EVENT_LABELS[event])
                for event in events_fitting(order)
                if self.has_refund_permission(request) or not event_moves_money(order, event)
            ],
            "lines": [
                {"line": line, "unit": money(line.unit_price_minor), "total": money(line.line_total_minor)}
                for line in order.lines.all()
            ],
            "total_display": money(order.total_minor),
            "links": [{"link": link, "paid": money(link.amount_paid_minor)} for link in order.payment_links.all()],
            "refunds": [{"refund": refund, "amount": money(refund.amount_minor)} for refund in order.refunds.all()],
            "changes": order.changes.select_related("actor"),
            "order_messages": [{"message": m, "text": message_text(m.content)} for m in order_messages(order)],
        }

    # --- posts from the change page

    def get_urls(self):
        view = self.admin_site.admin_view  # staff login and CSRF
        return [
            path("<path:object_id>/fulfil/<slug:event>/", view(self.fulfil_view), name="checkout_order_fulfil"),
            *super().get_urls(),
        ]

    def fulfil_view(self, request, object_id, event):
        """POST only, change permission on the order (and refund permission for an event that moves money):
        apply one event, then back to the page with what came of it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        if event_moves_money(order, event) and not self.has_refund_permission(request):
            raise PermissionDenied
        try:
            amount = request.POST.get("amount", "").strip()
            updated = fulfilment_apply(
                order=order,
                event=event,
                by="staff",
                by_name=request.user.get_username(),
                actor=request.user,
                carrier=request.POST.get("carrier", ""),
                tracking_url=request.POST.get("tracking_url", ""),
                reason=request.POST.get("reason", ""),
                amount_minor=_amount_minor(amount, order.currency),
            )
        except FulfilmentRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"Order {updated.reference} is now {updated.get_status_display().lower()}; the customer is being told.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[order.pk]))


def _amount_minor(text: str, currency: str) -> int | None:
    """A refund amount as staff type it ("12.50"); empty means all that is left."""
    if not text:
        return None
    try:
        return amount_parse(text, currency)
    except ValueError:
        raise FulfilmentRefused(f"“{text}” is not an amount in {currency} (e.g. 12.50).") from None
