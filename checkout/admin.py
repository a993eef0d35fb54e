"""Orders in the admin: read the order, its payments, refunds, history and messages; report fulfilment.

Thin: every change goes through checkout.fulfilment.fulfilment_apply; this module
parses form input and shows what came of it. Orders are never created, edited
or deleted here. No card data exists to show: Stripe keeps it.

Cancelling and refunding cannot be taken back, so each is asked twice: the first post
shows a confirmation page that states the money and what the customer will be told,
and only its "yes" (confirm=yes, with the amount it stated) runs the fulfilment. A
refund names its amount, or the full refund of a stated sum: an empty box is no amount.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_fsm import can_proceed

from catalog.money import amount_format, amount_parse
from checkout.fulfilment import CANCEL_REFUNDS_FROM, EVENTS, FulfilmentRefused, fulfilment_apply
from checkout.models import REFUND_COUNTED, LinkStatus, Order, OrderStatus
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
    "cancelled": "Cancel the order…",
    "refunded": "Refund…",
}
# Events that cannot be taken back: the page asks for confirmation before fulfilment_apply runs.
CONFIRMED_EVENTS = ("cancelled", "refunded")
CONFIRM = "yes"


def events_fitting(order: Order) -> list[str]:
    """The fulfilment events the order's status allows now (the page offers only these)."""
    return [event for event in EVENTS if can_proceed(TRANSITIONS[EVENTS[event]].__get__(order, Order))]


def event_moves_money(order: Order, event: str) -> bool:
    """A refund, or a cancel that refunds the payment: only staff who may refund (the owner) do these."""
    return event == "refunded" or (event == "cancelled" and order.status in CANCEL_REFUNDS_FROM)


def refundable_minor(order: Order) -> int | None:
    """What is left to refund of the order's Stripe payment (None: no payment to refund), read as
    checkout.fulfilment reads it; fulfilment still decides, under the order's lock."""
    link = (
        order.payment_links.filter(status=LinkStatus.PAID)
        .exclude(stripe_payment_intent_id="")
        .order_by("-settled_at", "-pk")
        .first()
    )
    if link is None or not link.amount_paid_minor:
        return None
    counted = order.refunds.filter(status__in=REFUND_COUNTED).aggregate(total=Sum("amount_minor"))["total"] or 0
    return max(link.amount_paid_minor - counted, 0)


@dataclass(frozen=True)
class MoneyPlan:
    """What a cancel or a refund will do, as the confirmation page states it."""

    event: str
    amount_minor: int | None  # refunded through Stripe; None when no money moves
    full: bool  # all that is left of the payment
    reason: str
    refund_choice: str  # "full" or "amount" for a refund

    def amount(self, currency: str) -> str:
        return amount_format(self.amount_minor, currency) if self.amount_minor is not None else ""


def money_plan(order: Order, event: str, post) -> MoneyPlan:
    """Read the posted cancel or refund into what it will do, or raise FulfilmentRefused (nothing changed).

    A refund needs refund=full (all that is left, the sum stated) or refund=amount with an amount typed;
    the confirming post carries the stated amount in minor units, so what runs is what was shown."""
    reason = post.get("reason", "").strip()
    left = refundable_minor(order)
    if event == "cancelled":
        if not reason:
            raise FulfilmentRefused("Cancelling needs a reason (the customer is told it).")
        refunds = order.status in CANCEL_REFUNDS_FROM
        if refunds and not left:
            raise FulfilmentRefused(f"Order {order.reference} has no Stripe payment left to refund.")
        return MoneyPlan(event, left if refunds else None, refunds, reason, "")
    choice = post.get("refund", "")
    typed = post.get("amount", "").strip()
    if not choice and typed:
        choice = "amount"  # an amount typed is an explicit choice
    if left is None:
        raise FulfilmentRefused(f"Order {order.reference} has no Stripe payment to refund.")
    if left <= 0:
        raise FulfilmentRefused("Nothing is left to refund.")
    if choice == "full":
        amount = left
    elif choice == "amount":
        if post.get("confirm") == CONFIRM and post.get("amount_minor", "").isdigit():
            amount = int(post["amount_minor"])
        elif not typed:
            raise FulfilmentRefused(
                f"Type the amount to refund, or choose the full refund of {amount_format(left, order.currency)}."
            )
        else:
            amount = _amount_minor(typed, order.currency)
    else:
        raise FulfilmentRefused(
            f"Choose the full refund of {amount_format(left, order.currency)}, or type the amount to refund."
        )
    if amount <= 0:
        raise FulfilmentRefused("The refund amount must be more than zero.")
    if amount > left:
        raise FulfilmentRefused(f"At most {amount_format(left, order.currency)} can be refunded.")
    if choice == "full" and post.get("confirm") == CONFIRM and post.get("amount_minor") != str(amount):
        raise FulfilmentRefused(
            f"What is left to refund changed to {amount_format(left, order.currency)} meanwhile: look again."
        )
    return MoneyPlan(event, amount, amount == left, reason, choice)


def customer_told(order: Order, plan: MoneyPlan) -> str:
    """What the customer hears on WhatsApp (conversations.order_updates writes the words)."""
    amount = plan.amount(order.currency)
    if plan.event == "refunded":
        return (
            f"On WhatsApp, that order {order.reference} has been refunded ({amount}) "
            "and that banks take 5-10 days to show it."
        )
    money = f"that {amount} is being refunded" if plan.amount_minor is not None else "that nothing was charged"
    return (
        f"On WhatsApp, that order {order.reference} has been cancelled, with your reason “{plan.reason}”, and {money}."
    )


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

        left = refundable_minor(order)
        return {
            "order": order,
            "can_act": self.has_change_permission(request, order),
            # The customer's thread, by URL name: checkout sits below conversations and imports none of it.
            "thread_url": reverse("admin:conversations_thread_for_order", args=[order.reference])
            if request.user.has_perm("conversations.view_thread")
            else "",
            "refundable_display": money(left),
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
            "changes": [
                {"change": change, "from": status_label(change.from_state), "to": status_label(change.to_state)}
                for change in order.changes.select_related("actor").order_by("created_at", "pk")
            ],
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
        apply one event, then back to the page with what came of it. A cancel or a refund first answers
        a confirmation page; only its post (confirm=yes) applies the event."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        if event_moves_money(order, event) and not self.has_refund_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:checkout_order_change", args=[order.pk])
        try:
            plan = money_plan(order, event, request.POST) if event in CONFIRMED_EVENTS else None
            if plan is not None and request.POST.get("confirm") != CONFIRM:
                return self._confirm_page(request, order, plan)
            updated = fulfilment_apply(
                order=order,
                event=event,
                by="staff",
                by_name=request.user.get_username(),
                actor=request.user,
                carrier=request.POST.get("carrier", ""),
                tracking_url=request.POST.get("tracking_url", ""),
                reason=request.POST.get("reason", ""),
                amount_minor=plan.amount_minor if plan is not None and event == "refunded" else None,
            )
        except FulfilmentRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"Order {updated.reference} is now {updated.get_status_display().lower()}; the customer is being told.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(change_url)

    def _confirm_page(self, request, order: Order, plan: MoneyPlan) -> TemplateResponse:
        """The second question: what the cancel or refund will do, with a form that posts it again, confirmed."""
        amount = plan.amount(order.currency)
        if plan.event == "refunded":
            title = f"Refund {amount} for order {order.reference}?"
            button = f"Yes, refund {amount}"
        else:
            title = f"Cancel order {order.reference}?" + (f" {amount} is refunded." if amount else "")
            button = f"Yes, cancel it and refund {amount}" if amount else "Yes, cancel the order"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "order": order,
            "plan": plan,
            "amount_display": amount,
            "paid_display": self._paid_display(order),
            "total_display": amount_format(order.total_minor, order.currency),
            "told": customer_told(order, plan),
            "button": button,
            "ends_in": OrderStatus.REFUNDED.label if plan.amount_minor is not None else OrderStatus.CANCELLED.label,
            "action_url": reverse("admin:checkout_order_fulfil", args=[order.pk, plan.event]),
            "change_url": reverse("admin:checkout_order_change", args=[order.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/checkout/order/fulfil_confirm.html", context)

    @staticmethod
    def _paid_display(order: Order) -> str:
        paid = (
            order.payment_links.filter(status=LinkStatus.PAID)
            .exclude(stripe_payment_intent_id="")
            .order_by("-settled_at", "-pk")
            .values_list("amount_paid_minor", flat=True)
            .first()
        )
        return amount_format(paid, order.currency) if paid else "-"


def status_label(value: str) -> str:
    """An order status as staff read it ("Out for delivery"); blank (the order was placed) as "-"."""
    if not value:
        return "-"
    return OrderStatus(value).label if value in OrderStatus.values else value


def _amount_minor(text: str, currency: str) -> int:
    """A refund amount as staff type it ("12.50")."""
    try:
        return amount_parse(text, currency)
    except ValueError:
        raise FulfilmentRefused(f"“{text}” is not an amount in {currency} (e.g. 12.50).") from None
