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
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog.money import amount_format
from conversations import staff
from conversations.carts import cart_summary
from conversations.intents import normalise
from conversations.models import Direction, Keyword, MediaStatus, Thread, ThreadMessage, ThreadState
from outbound.models import MessageStatus
from templates_lib.params import MEDIA_TYPES, ParamType
from waco.contacts.models import SERVICE_WINDOW, ServiceWindow

# The page shows the newest messages; older ones stay in the database.
MESSAGES_SHOWN = 200
THREAD_FIELDS = [
    "contact",
    "phone_number",
    "state",
    "state_before_handoff",
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


# --- threads ----------------------------------------------------------------------------


def _thread_queryset_annotations():
    """The list's last-message time and window, one subquery each (not one query per row)."""
    last_message = ThreadMessage.objects.filter(thread=OuterRef("pk")).order_by("-sent_at").values("sent_at")[:1]
    window = ServiceWindow.objects.filter(contact=OuterRef("contact"), phone_number=OuterRef("phone_number"))
    return {
        "last_message_at": Subquery(last_message),
        "last_inbound_at": Subquery(window.values("last_inbound_at")[:1]),
    }


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


def _sent_note(message) -> tuple[int, str]:
    if message.status == MessageStatus.FAILED:
        return messages.ERROR, f"Not sent: {message.error_detail or message.error_class}"
    return messages.SUCCESS, "Queued for sending."


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["contact", "phone_number", "state", "last_message", "window_badge"]
    list_filter = ["state", "phone_number"]
    search_fields = ["contact__wa_id", "contact__profile_name"]
    list_select_related = ["contact", "phone_number"]
    fields = THREAD_FIELDS
    readonly_fields = THREAD_FIELDS
    actions = ["take_over", "hand_back"]
    change_form_template = "admin/conversations/thread/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**_thread_queryset_annotations())

    def get_ordering(self, request):
        return [F("last_message_at").desc(nulls_last=True), "-pk"]  # the liveliest threads first

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="last message", ordering="last_message_at")
    def last_message(self, obj):
        return obj.last_message_at or "-"

    @admin.display(description="window", ordering="last_inbound_at")
    def window_badge(self, obj):
        if obj.last_inbound_at and timezone.now() < obj.last_inbound_at + SERVICE_WINDOW:
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
        if thread is not None:
            extra_context = {**(extra_context or {}), **self._conversation_context(request, thread)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _conversation_context(self, request, thread: Thread) -> dict:
        total = thread.messages.count()
        newest = thread.messages.select_related("outbound", "staff_user", "media").order_by("-sent_at", "-pk")[
            :MESSAGES_SHOWN
        ]
        window = staff.window_status(thread=thread)
        in_handoff = thread.state == ThreadState.HANDOFF
        return {
            "thread": thread,
            "can_act": self.has_change_permission(request, thread),
            "in_handoff": in_handoff,
            "window": window,
            "conversation": [self._message_row(m) for m in reversed(newest)],
            "messages_hidden": max(0, total - MESSAGES_SHOWN),
            "transitions": thread.transitions.select_related("actor"),
            "cart": self._cart_context(thread),
            "template_offers": staff.templates_offered(thread=thread) if in_handoff and not window.is_open else [],
            "nonce": uuid.uuid4().hex,
            "chat_url": self._chat_url(thread),
            "templates_url": reverse("admin:templates_lib_template_changelist"),
        }

    @staticmethod
    def _message_row(message: ThreadMessage) -> dict:
        inbound = message.direction == Direction.INBOUND
        row = {
            "inbound": inbound,
            "at": message.sent_at,
            "type": message.type,
            "text": message.text,
            "who": "customer" if inbound else (message.staff_user or "bot"),
        }
        out = message.outbound
        if out is not None:
            row.update(
                status=out.status,
                status_label=out.get_status_display(),
                template_name=out.template_name,
                error=out.error_detail if out.status == MessageStatus.FAILED else "",
                outbound_pk=out.pk,
            )
        media = getattr(message, "media", None)
        if media is not None:
            stored = media.status == MediaStatus.STORED and bool(media.file)
            row["media"] = {
                "status": media.get_status_display(),
                "url": media.file.url if stored else "",
                "mime": media.mime_type or media.declared_mime_type,
                "error": media.error,
            }
        return row

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
            path(
                "<path:object_id>/send-template/", view(self.template_view), name="conversations_thread_send_template"
            ),
            *super().get_urls(),
        ]

    def _post(self, request, object_id, act):
        """POST only, change permission on the thread; `act(thread)` returns (level, text)
        or raises StaffRefusal; either way back to the page with a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        thread = self.get_object(request, unquote(object_id))
        if thread is None:
            raise Http404("No such thread.")
        if not self.has_change_permission(request, thread):
            raise PermissionDenied
        try:
            level, text = act(thread)
        except staff.StaffRefusal as exc:
            level, text = messages.ERROR, str(exc)
        self.message_user(request, text, level)
        return HttpResponseRedirect(reverse("admin:conversations_thread_change", args=[thread.pk]) + "#reply")

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

    def reply_view(self, request, object_id):
        def act(thread):
            return _sent_note(
                staff.staff_reply(
                    thread=thread,
                    user=request.user,
                    text=request.POST.get("text", ""),
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
