"""Threads in the admin: read the conversation, take it over, reply through the send path, hand it back.

Thin: every change is a conversations.staff service; this module parses form input
and shows what came of it. Threads are never created, edited or deleted here.
"""

import json
import uuid
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog.money import amount_format
from checkout.models import Order
from conversations import inbox, live, staff
from conversations.carts import cart_summary
from conversations.intents import normalise
from conversations.models import Inbox, Keyword, QuickReply, Thread, ThreadState
from outbound import attachments
from outbound.models import MessageStatus
from templates_lib.params import MEDIA_TYPES, ParamType
from waco.contacts.models import SERVICE_WINDOW, ServiceWindow

ROW_TEMPLATE = "admin/conversations/thread/row.html"
# The thread's page lists the customer's latest orders; the rest are on the orders list.
ORDERS_SHOWN = 10
THREAD_FIELDS = [
    "contact",
    "phone_number",
    "state",
    "state_before_handoff",
    "assigned_to",
    "resolved_at",
    "consent_asked_at",
    "created_at",
    "updated_at",
]


# --- keywords ---------------------------------------------------------------------------


class KeywordForm(forms.ModelForm):
    class Meta:
        model = Keyword
        fields = ["word", "intent", "language"]

    def clean_word(self):
        """Stored as the matcher reads customers' text, so what staff type is what matches."""
        word = normalise(self.cleaned_data["word"])
        if not word:
            raise forms.ValidationError("This word is empty once punctuation and accents are removed.")
        if len(word) > Keyword._meta.get_field("word").max_length:
            raise forms.ValidationError("This word is too long.")
        taken = Keyword.objects.filter(word=word).exclude(pk=self.instance.pk).first()
        if taken is not None:
            raise forms.ValidationError(
                f"“{word}” is already a keyword (for “{taken.get_intent_display()}”): edit that one instead."
            )
        return word


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    form = KeywordForm
    list_display = ["word", "intent", "language"]
    list_filter = ["intent", "language"]
    search_fields = ["word"]


# --- quick replies ------------------------------------------------------------------------


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ["business_account", "title", "text"]

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if len(text) > staff.TEXT_LIMIT:
            raise forms.ValidationError(f"WhatsApp allows {staff.TEXT_LIMIT} characters; this is {len(text)}.")
        unknown = staff.quick_reply_unknown_placeholders(text)
        if unknown:
            raise forms.ValidationError(
                f"Unknown placeholder(s) {', '.join(unknown)}: only {', '.join(staff.QUICK_REPLY_PLACEHOLDERS)} are filled."
            )
        return text


@admin.register(QuickReply)
class QuickReplyAdmin(admin.ModelAdmin):
    """Saved answers per shop, picked on the conversation page; {name} and {last_order} are filled there."""

    form = QuickReplyForm
    list_display = ["title", "business_account", "updated_at"]
    list_filter = ["business_account"]
    search_fields = ["title", "text"]
    list_select_related = ["business_account"]


# --- threads ----------------------------------------------------------------------------


def _thread_queryset_annotations():
    """The list's window, one subquery (not one query per row); the last message's time is on the row."""
    window = ServiceWindow.objects.filter(contact=OuterRef("contact"), phone_number=OuterRef("phone_number"))
    return {"last_inbound_at": Subquery(window.values("last_inbound_at")[:1])}


def _param_value(kind: str, raw: str):
    """A form field's text as the value the renderer expects; what does not parse is
    passed on as text, so the renderer's error names the parameter."""
    raw = raw.strip()
    if kind == ParamType.NUMBER:
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return raw
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == ParamType.DATE_TIME:
        return {"fallback_value": raw} if raw else raw  # shown to the customer as typed
    if kind == ParamType.CURRENCY:  # "12.50 USD"
        amount, _, code = raw.partition(" ")
        try:
            return {"amount_1000": int(Decimal(amount) * 1000), "code": code.strip().upper()}
        except InvalidOperation:
            return raw
    if kind in MEDIA_TYPES:  # a link, or the JSON object ({"id": ...})
        return json.loads(raw) if raw.startswith("{") else {"link": raw}
    return raw


def _dedupe_key(request, action: str, thread: Thread) -> str | None:
    """One key per rendered form, so a double submit sends once."""
    try:
        nonce = uuid.UUID(request.POST.get("nonce", ""))
    except ValueError:
        return None
    return f"staff-{action}:{thread.pk}:{nonce.hex}"


def _window_open(thread: Thread) -> bool:
    """From the queryset's annotation (_thread_queryset_annotations): no query of its own."""
    return bool(thread.last_inbound_at) and timezone.now() < thread.last_inbound_at + SERVICE_WINDOW


def _panel_key(thread: Thread) -> str:
    """What the page's buttons and reply form depend on: when a poll answers another key, the page
    fetches them again (a customer asking for a person, a colleague taking over, the window opening)."""
    return f"{thread.state}:{thread.assigned_to_id or ''}:{int(_window_open(thread))}"


def _sent_note(message) -> tuple[int, str]:
    if message.status == MessageStatus.FAILED:
        return messages.ERROR, f"Not sent: {message.error_detail or message.error_class}"
    return messages.SUCCESS, "Queued for sending."


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["contact", "phone_number", "state", "assigned_to", "last_message", "window_badge"]
    list_filter = ["state", "phone_number"]
    search_fields = ["contact__wa_id", "contact__profile_name"]
    list_select_related = ["contact", "phone_number", "assigned_to"]
    fields = THREAD_FIELDS
    readonly_fields = THREAD_FIELDS
    actions = ["take_over", "hand_back", "assign_to_me"]
    change_form_template = "admin/conversations/thread/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**_thread_queryset_annotations())

    def get_ordering(self, request):
        return [F("last_message_at").desc(nulls_last=True), "-pk"]  # the liveliest threads first

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """The inbox's search: a number in any format, a BSUID, a name, an order's reference, a message's words."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(inbox.search_filter(search_term)), False

    @admin.display(description="last message", ordering="last_message_at")
    def last_message(self, obj):
        return obj.last_message_at or "-"

    @admin.display(description="window", ordering="last_inbound_at")
    def window_badge(self, obj):
        if _window_open(obj):
            return format_html(
                '<span class="window-badge" style="color:#fff;background:#2e7d32;'
                'padding:1px 6px;border-radius:8px">{}</span>',
                "open",
            )
        return format_html('<span class="window-badge" style="color:#555">{}</span>', "closed")

    # --- list actions: the same services as the page's buttons

    @admin.action(description="Take over (hand to a person)", permissions=["change"])
    def take_over(self, request, queryset):
        self._act_on_each(request, queryset, staff.thread_take, "Took over")

    @admin.action(description="Hand back to the bot", permissions=["change"])
    def hand_back(self, request, queryset):
        self._act_on_each(request, queryset, staff.thread_hand_back, "Handed back")

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._act_on_each(
            request, queryset, lambda thread, user: staff.thread_assign(thread=thread, assignee=user), "Assigned"
        )

    def _act_on_each(self, request, queryset, service, done: str) -> None:
        count = 0
        for thread in queryset:
            try:
                service(thread=thread, user=request.user)
            except staff.StaffRefusal as exc:
                self.message_user(request, f"{thread.contact}: {exc}", messages.WARNING)
            else:
                count += 1
        self.message_user(request, f"{done} {count} thread(s).", messages.SUCCESS)

    # --- the change page: the conversation and the reply form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        thread = self.get_object(request, unquote(object_id))
        if thread is not None and self.has_view_or_change_permission(request, thread):
            if request.method == "GET":
                inbox.thread_mark_read(thread=thread)  # what the customer wrote so far is read
            extra_context = {**(extra_context or {}), **self._conversation_context(request, thread)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _conversation_context(self, request, thread: Thread) -> dict:
        transcript = live.transcript(thread=thread)
        window = staff.window_status(thread=thread)
        in_handoff = thread.state == ThreadState.HANDOFF
        return {
            "thread": thread,
            "can_act": self.has_change_permission(request, thread),
            "in_handoff": in_handoff,
            "window": window,
            "conversation": transcript.rows,
            "messages_hidden": transcript.messages_hidden,
            "live_url": reverse("admin:conversations_thread_live", args=[thread.pk])
            + "?"
            + urlencode(transcript.cursor.as_query()),
            "poll_interval_ms": live.POLL_INTERVAL_MS,
            "transitions": thread.transitions.select_related("actor"),
            "cart": self._cart_context(thread),
            "orders": self._orders_context(thread),
            "template_offers": staff.templates_offered(thread=thread) if in_handoff and not window.is_open else [],
            "quick_replies": staff.quick_replies_for(thread=thread) if in_handoff and window.is_open else [],
            "nonce": uuid.uuid4().hex,
            "chat_url": self._chat_url(thread),
            "templates_url": reverse("admin:templates_lib_template_changelist"),
            "inbox_url": reverse("admin:conversations_inbox_changelist"),
            "assigned_to_me": thread.assigned_to_id == request.user.pk,
            "panel_key": _panel_key(thread),
            "attachment_accept": ",".join(f".{extension}" for extension in attachments.ATTACHMENT_TYPES),
        }

    @staticmethod
    def _cart_context(thread: Thread) -> dict:
        summary = cart_summary(thread=thread)  # read live: the prices the customer would be quoted now
        lines = [
            {
                "name": " ".join([line.variant.product.name, *map(str, (line.variant.attributes or {}).values())]),
                "sku": line.variant.sku,
                "quantity": line.quantity,
                "available": line.available,
                "unit": amount_format(line.unit_price_minor, line.variant.currency),
                "total": amount_format(line.line_total_minor, line.variant.currency),
            }
            for line in summary.lines
        ]
        return {"lines": lines, "total": summary.total_display}

    @staticmethod
    def _orders_context(thread: Thread) -> list[dict]:
        """The customer's latest orders with the shop, newest first, each linking to its page."""
        orders = Order.objects.filter(
            contact_id=thread.contact_id, business_account_id=thread.phone_number.business_account_id
        ).order_by("-created_at", "-pk")[:ORDERS_SHOWN]
        return [
            {
                "reference": order.reference,
                "status": order.get_status_display(),
                "total": amount_format(order.total_minor, order.currency),
                "created_at": order.created_at,
                "url": reverse("admin:checkout_order_change", args=[order.pk]),
            }
            for order in orders
        ]

    @staticmethod
    def _chat_url(thread: Thread) -> str:
        """The sandbox's customer chat for this contact (demo only): by phone, or by BSUID for a username."""
        customer = thread.contact.wa_id or thread.contact.user_id
        if not apps.is_installed("waco.sandbox") or not customer:
            return ""
        return "/demo/chat/?" + urlencode({"wa_id": customer, "name": thread.contact.profile_name})

    # --- posts from the change page

    def get_urls(self):
        view = self.admin_site.admin_view  # staff login and CSRF
        return [
            path("<path:object_id>/take/", view(self.take_view), name="conversations_thread_take"),
            path("<path:object_id>/hand-back/", view(self.hand_back_view), name="conversations_thread_hand_back"),
            path("<path:object_id>/reply/", view(self.reply_view), name="conversations_thread_reply"),
            path("<path:object_id>/assign/", view(self.assign_view), name="conversations_thread_assign"),
            path("<path:object_id>/live/", view(self.live_view), name="conversations_thread_live"),
            path("for-order/<str:reference>/", view(self.for_order_view), name="conversations_thread_for_order"),
            path("<path:object_id>/note/", view(self.note_view), name="conversations_thread_note"),
            path("<path:object_id>/media/<int:message_id>/", view(self.media_view), name="conversations_thread_media"),
            path(
                "<path:object_id>/send-template/", view(self.template_view), name="conversations_thread_send_template"
            ),
            *super().get_urls(),
        ]

    def _thread_allowed(self, request, object_id, *, may) -> Thread:
        """The thread of the URL, if `may(request, thread)` (view or change permission), else 404 or 403."""
        thread = self.get_object(request, unquote(object_id))
        if thread is None:
            raise Http404("No such thread.")
        if not may(request, thread):
            raise PermissionDenied
        return thread

    def _post(self, request, object_id, act):
        """POST only, change permission on the thread; `act(thread)` returns (level, text)
        or raises StaffRefusal; either way back to the page, scrolled to that message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        thread = self._thread_allowed(request, object_id, may=self.has_change_permission)
        try:
            level, text = act(thread)
        except staff.StaffRefusal as exc:
            level, text = messages.ERROR, str(exc)
        self.message_user(request, text, level)
        return HttpResponseRedirect(reverse("admin:conversations_thread_change", args=[thread.pk]) + "#action-result")

    def take_view(self, request, object_id):
        def act(thread):
            staff.thread_take(thread=thread, user=request.user)
            return messages.SUCCESS, "You have this thread now: the bot is silent until you hand it back."

        return self._post(request, object_id, act)

    def hand_back_view(self, request, object_id):
        def act(thread):
            staff.thread_hand_back(thread=thread, user=request.user)
            return messages.SUCCESS, "Handed back: the bot answers this customer again, from the menu."

        return self._post(request, object_id, act)

    def assign_view(self, request, object_id):
        """Assign the thread to me, or (`to=nobody`) to no one."""

        def act(thread):
            if request.POST.get("to") == "nobody":
                staff.thread_assign(thread=thread, assignee=None)
                return messages.SUCCESS, "Nobody has this thread now: it is in the inbox's “unassigned”."
            staff.thread_assign(thread=thread, assignee=request.user)
            return messages.SUCCESS, "This thread is yours: it is in the inbox's “mine”."

        return self._post(request, object_id, act)

    def live_view(self, request, object_id):
        """GET, view permission on the thread: its new and changed rows since the page's cursor, as HTML."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        thread = self._thread_allowed(request, object_id, may=self.has_view_or_change_permission)
        changes = live.live_changes(thread=thread, cursor=live.cursor_parse(request.GET))
        return JsonResponse(
            {
                "panel": _panel_key(thread),
                "rows": [
                    {"key": row["key"], "html": render_to_string(ROW_TEMPLATE, {"m": row}, request=request)}
                    for row in changes.rows
                ],
                "cursor": changes.cursor.as_query(),
                "state": changes.state,
                "state_label": changes.state_label,
            },
            headers={"Cache-Control": "no-store"},
        )

    def for_order_view(self, request, reference):
        """GET: the thread an order was placed in (its customer and number), from the order's page."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        order = Order.objects.filter(reference=reference).first()
        thread = order and Thread.objects.filter(contact=order.contact_id, phone_number=order.phone_number_id).first()
        if thread is None:
            raise Http404("No conversation for this order.")
        if not self.has_view_or_change_permission(request, thread):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:conversations_thread_change", args=[thread.pk]))

    def media_view(self, request, object_id, message_id):
        """GET, view permission on the thread: a file of one of its messages, either way, never elsewhere."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        thread = self._thread_allowed(request, object_id, may=self.has_view_or_change_permission)
        stored = live.message_file(thread=thread, message_id=message_id)
        if stored is None:
            raise Http404("This message has no stored file.")
        inline = stored.mime_type in live.INLINE_MIME_TYPES  # images show in the page; the rest download
        response = FileResponse(
            stored.file.open("rb"), content_type=stored.mime_type, as_attachment=not inline, filename=stored.filename
        )
        # Customers' files are untrusted: never sniffed into HTML, never run as a page of ours.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
        response["Cache-Control"] = "private, no-store"
        return response

    def note_view(self, request, object_id):
        def act(thread):
            staff.note_add(thread=thread, user=request.user, text=request.POST.get("note", ""))
            return messages.SUCCESS, "Note added: staff see it here; the customer never does."

        return self._post(request, object_id, act)

    def reply_view(self, request, object_id):
        def act(thread):
            return _sent_note(
                staff.staff_reply(
                    thread=thread,
                    user=request.user,
                    text=request.POST.get("text", ""),
                    attachment=request.FILES.get("attachment"),
                    dedupe_key=_dedupe_key(request, "reply", thread),
                )
            )

        return self._post(request, object_id, act)

    def template_view(self, request, object_id):
        def act(thread):
            purpose = request.POST.get("purpose", "")
            offer = next((o for o in staff.templates_offered(thread=thread) if o.purpose.key == purpose), None)
            try:
                params = {
                    spec.key: _param_value(spec.type, request.POST.get(f"param:{spec.key}", ""))
                    for spec in (offer.params if offer else [])
                }
            except json.JSONDecodeError as exc:
                raise staff.StaffRefusal(f"A media parameter is not valid JSON: {exc}") from exc
            return _sent_note(
                staff.staff_send_template(
                    thread=thread,
                    user=request.user,
                    purpose=purpose,
                    params=params,
                    dedupe_key=_dedupe_key(request, "template", thread),
                )
            )

        return self._post(request, object_id, act)


# --- the inbox ----------------------------------------------------------------------------


def _inbox_href(tab: str, search: str, page: int = 1) -> str:
    query = {"tab": tab, **({"q": search} if search else {}), **({"page": page} if page > 1 else {})}
    return "?" + urlencode(query)


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    """The staff inbox: threads as a work queue (conversations.inbox), each row opening the thread's page.

    It reads and changes nothing of its own: who may see it follows the thread's view permission, and
    a row is opened, read and answered on the thread's page, under the thread's permissions.
    """

    inbox_template = "admin/conversations/inbox.html"
    live_template = "admin/conversations/inbox_live.html"  # what the page's poll fetches (?live=1)

    def has_view_permission(self, request, obj=None):
        if obj is not None:  # rows open on the thread's page, never here
            return False
        return request.user.has_perm("conversations.view_thread") or request.user.has_perm(
            "conversations.change_thread"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "GET":  # nothing to post here: the thread's page acts
            return HttpResponseRedirect(request.path)
        page = inbox.inbox_page(
            user=request.user,
            tab=request.GET.get("tab", inbox.DEFAULT_TAB),
            search=request.GET.get("q", "")[:200],
            page=request.GET.get("page", 1),
        )
        rows = []
        for thread in page.page:
            name, number = inbox.customer_label(thread)
            rows.append(
                {
                    "thread": thread,
                    "name": name,
                    "number": number,
                    "url": reverse("admin:conversations_thread_change", args=[thread.pk]),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Inbox",
            "inbox": page,
            "rows": rows,
            "tabs": [{"tab": tab, "href": _inbox_href(tab.key, page.search)} for tab in page.tabs],
            "previous_href": _inbox_href(page.tab, page.search, page.page.previous_page_number())
            if page.page.has_previous()
            else "",
            "next_href": _inbox_href(page.tab, page.search, page.page.next_page_number())
            if page.page.has_next()
            else "",
            "time_zone": timezone.get_current_timezone_name(),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        live = request.GET.get("live") == "1"
        return TemplateResponse(request, self.live_template if live else self.inbox_template, context)
