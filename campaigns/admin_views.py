"""The campaign pages of the admin: the new-campaign form, and the campaign's page with its preview,
its status buttons and its progress, refreshed every 2 s from a small JSON endpoint.

Thin: creating is campaigns.services.campaign_create, every status change is
campaigns.services.campaign_transition (a start or resume rings a worker, which expands the
audience and sends); this module parses form input and shows what came of it. The counts are the outcomes rollup's
(campaigns.outcomes.campaign_totals), never a scan of recipients. CampaignAdmin takes these pages by
inheriting CampaignAdminPages. Status buttons post (change permission); a cancel asks first.
"""

from dataclasses import dataclass, field
from datetime import time
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.admin_audience import audience_context, campaign_audience_view
from campaigns.control import campaign_press
from campaigns.expansion import campaign_preview
from campaigns.models import Audience, Campaign, CampaignCause, CampaignStatus, RecipientStatus, SkipReason
from campaigns.outcomes import campaign_totals
from campaigns.services import FIELD_SOURCES, CampaignTransitionRefused, campaign_create
from templates_lib.models import Template, TemplateStatus
from templates_lib.params import TemplateDefinitionError, specs_parse
from waco.channels.models import PhoneNumber

TEMPLATES = "admin/campaigns/campaign/"
POLL_INTERVAL_MS = 2000
CONFIRM = "yes"
# The page's buttons, in the order a campaign meets them; "complete" is the system's, never a button.
BUTTONS = {
    "start": "Start now",
    "schedule": "Schedule",
    "pause": "Pause",
    "resume": "Resume",
    "cancel": "Cancel the campaign…",
}
# The page polls its progress while the campaign may still move.
POLLED = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
PREVIEWED = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
# What a template parameter's value may come from, as the form offers it (a CSV column: CSV audiences).
SOURCE_CHOICES = [
    ("", "Choose…"),
    ("attribute", "Contact attribute"),
    ("field", "Contact field"),
    ("constant", "Constant"),
    ("csv", "CSV column"),
    ("intent", "Button: what a tap asks for"),
]
# Recipients that are sent, or beyond (a failure was tried too): the progress bar's numerator.
TRIED = (
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.READ,
    RecipientStatus.REPLIED,
    RecipientStatus.ORDERED,
    RecipientStatus.FAILED,
)


# --- the new-campaign form ----------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]


class CampaignForm(forms.Form):
    """What staff type; campaign_create decides what is right (its errors land on these fields)."""

    name = forms.CharField(max_length=200)
    phone_number = forms.ModelChoiceField(queryset=PhoneNumber.objects.none(), label="Send from number")
    template = forms.ModelChoiceField(queryset=Template.objects.none(), label="Approved template")
    transactional = forms.BooleanField(
        required=False, help_text="A transactional notice (required for a utility template), not a promotion."
    )
    audience = forms.ChoiceField(
        choices=Audience.choices,
        initial=Audience.SEGMENT,
        required=False,
        help_text="A CSV is uploaded on the campaign's page once it is saved; the segment's filters are then unused.",
    )
    tags_all = forms.CharField(required=False, label="Has every tag", help_text="Comma-separated.")
    tags_any = forms.CharField(required=False, label="Has any of the tags", help_text="Comma-separated.")
    countries = forms.CharField(required=False, help_text="ISO codes, comma-separated, e.g. AE, SA.")
    ordered_within_days = forms.IntegerField(required=False, min_value=1, label="Ordered within (days)")
    not_ordered_within_days = forms.IntegerField(required=False, min_value=1, label="Not ordered within (days)")
    quiet_since_days = forms.IntegerField(required=False, min_value=1, label="Quiet since (days)")
    starts_at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Blank: start it by hand from the campaign's page.",
    )
    ends_at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Blank: until every recipient was tried.",
    )
    quiet_start = forms.TimeField(
        initial=time(21), label="Quiet from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        initial=time(9), label="Quiet until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    frequency_cap_hours = forms.IntegerField(
        initial=24, min_value=1, label="Frequency cap (hours)", help_text="At most one marketing message per customer."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].queryset = PhoneNumber.objects.select_related("business_account")
        self.fields["template"].queryset = approved_templates()

    def clean_audience(self):
        return self.cleaned_data["audience"] or Audience.SEGMENT

    def clean_countries(self):
        return [code.upper() for code in _split(self.cleaned_data["countries"])]

    def segment(self) -> dict:
        data, segment = self.cleaned_data, {}
        for key in ("tags_all", "tags_any"):
            if tags := _split(data[key]):
                segment[key] = tags
        if data["countries"]:
            segment["countries"] = data["countries"]
        for key in ("ordered_within_days", "not_ordered_within_days", "quiet_since_days"):
            if data[key] is not None:
                segment[key] = data[key]
        return segment


def approved_templates():
    """The templates a campaign may send: approved, with a version (campaign_create checks the rest)."""
    return (
        Template.objects.filter(status=TemplateStatus.APPROVED, current_version__isnull=False)
        .select_related("business_account", "current_version")
        .order_by("business_account__name", "name", "language")
    )


def _param_name(template: Template, key: str, part: str) -> str:
    return f"p{template.pk}-{key}-{part}"


def param_rows(template: Template, data) -> dict:
    """One template's parameters as the form's rows, with what was posted (data) filled back in."""
    try:
        specs = specs_parse(template.current_version.parameters)
    except TemplateDefinitionError as error:
        return {"template": template, "rows": [], "error": f"Its parameters cannot be read: {error}"}
    rows = []
    for spec in specs:
        names = {part: _param_name(template, spec.key, part) for part in ("source", "value", "default")}
        rows.append(
            {
                "key": spec.key,
                "label": spec.describe(),
                "names": names,
                "source": data.get(names["source"], "") if data else "",
                "value": data.get(names["value"], "") if data else "",
                "default": data.get(names["default"], "") if data else "",
            }
        )
    return {"template": template, "rows": rows, "error": ""}


def params_from(template: Template, data) -> dict:
    """The posted sources of the template's parameters, in campaign_create's shape; a parameter
    left on "Choose…" is left out (campaign_create names it)."""
    params = {}
    for row in param_rows(template, data)["rows"]:
        kind, value, default = row["source"], row["value"].strip(), row["default"].strip()
        if kind == "constant":
            source = {"source": "constant", "value": value}
        elif kind in ("attribute", "field"):
            source = {"source": kind, "key": value}
        elif kind == "csv":
            source = {"source": "csv", "column": value}
        elif kind == "intent":  # a quick-reply button: menu, agent, stop... (campaigns.services.BUTTON_INTENTS)
            source = {"source": "intent", "value": value}
        else:
            continue
        if default:
            source["default"] = default
        params[row["key"]] = source
    return params


def campaign_add_view(model_admin, request, extra_context=None):
    """GET: the empty form; POST: campaign_create, then the campaign's page, or the form with its errors."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = CampaignForm(request.POST if request.method == "POST" else None)
    param_errors: list[str] = []
    segment_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        number = data["phone_number"]
        try:
            campaign = campaign_create(
                business_account=number.business_account,
                phone_number=number,
                name=data["name"],
                template=data["template"],
                params=params_from(data["template"], request.POST),
                audience=data["audience"],
                segment=form.segment() if data["audience"] == Audience.SEGMENT else {},
                transactional=data["transactional"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                quiet_hours=(data["quiet_start"], data["quiet_end"]),
                frequency_cap_hours=data["frequency_cap_hours"],
                created_by=request.user,
            )
        except ValidationError as error:
            for key, problems in error.message_dict.items():
                if key == "params":
                    param_errors.extend(problems)
                elif key == "segment":
                    segment_errors.extend(problems)
                elif key in form.fields:
                    form.add_error(key, problems)
                else:
                    form.add_error(None, problems)
        else:
            model_admin.message_user(
                request,
                f"Campaign “{campaign.name}” saved as a draft: check its preview, then start it.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    numbers = list(form.fields["phone_number"].queryset)
    templates = list(form.fields["template"].queryset)
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": "New campaign",
        "form": form,
        "numbers": numbers,
        "chosen_number": str(form["phone_number"].value() or ""),
        "chosen_template": str(form["template"].value() or ""),
        "templates": [param_rows(template, request.POST) for template in templates],
        "source_choices": SOURCE_CHOICES,
        "field_keys": list(FIELD_SOURCES),
        "param_errors": param_errors,
        "segment_errors": segment_errors,
        "time_zone": timezone.get_current_timezone_name(),
        "has_view_permission": model_admin.has_view_permission(request),
        **(extra_context or {}),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATES + "new.html", context)


# --- the campaign's page --------------------------------------------------------------------


@dataclass
class Progress:
    status_counts: dict = field(default_factory=dict)  # recipient status -> count, every status listed
    skipped: dict = field(default_factory=dict)  # skip reason -> count
    total: int = 0
    to_send: int = 0  # all but the skipped
    tried: int = 0  # sent or beyond (failures were tried too)
    counted_at: object = None  # when a rollup counted them; None: counted now

    @classmethod
    def of(cls, counts: dict, skipped: dict, *, counted_at=None) -> "Progress":
        status_counts = {status: int(counts.get(status, 0)) for status in RecipientStatus.values}
        total = sum(status_counts.values())
        return cls(
            status_counts=status_counts,
            skipped={reason: int(n) for reason, n in skipped.items() if n},
            total=total,
            to_send=total - status_counts[RecipientStatus.SKIPPED],
            tried=sum(status_counts[status] for status in TRIED),
            counted_at=counted_at,
        )

    @property
    def percent(self) -> int:
        return int(self.tried * 100 / self.to_send) if self.to_send else 0

    def rows(self) -> list[dict]:
        labels = dict(RecipientStatus.choices)
        return [{"status": s, "label": labels[s], "count": n} for s, n in self.status_counts.items()]

    def skipped_rows(self) -> list[dict]:
        labels = dict(SkipReason.choices)
        return [{"reason": r, "label": labels.get(r, r), "count": n} for r, n in sorted(self.skipped.items())]


def _progress(campaign: Campaign) -> Progress:
    """The campaign's recipients by status (and skips by reason), from the outcomes rollup: one read
    of CampaignTotals, which beat counts in one GROUP BY every few seconds (counted now only the
    first time). The only place these pages learn the counts: a page view never scans recipients."""
    if campaign.status == CampaignStatus.DRAFT:
        return Progress.of({}, {})  # expanded only when it starts: nothing to count, nothing to store
    totals = campaign_totals(campaign)
    return Progress.of(totals.counts, totals.skipped, counted_at=totals.counted_at)


def _preview(campaign: Campaign) -> dict:
    try:
        preview = campaign_preview(campaign=campaign)
    except ValidationError as error:
        return {"error": " ".join(error.messages)}
    labels = dict(SkipReason.choices)
    return {
        "would_send": preview.would_send,
        "skipped": [{"label": labels.get(r, r), "count": n} for r, n in sorted(preview.skipped.items())],
        "skipped_total": sum(preview.skipped.values()),
        "cost": f"{preview.estimated_cost.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} {preview.currency}",
        "unpriced": preview.unpriced,
    }


def buttons_fitting(campaign: Campaign, *, now=None) -> list[tuple[str, str]]:
    """The status buttons the campaign's status allows now (scheduling only with a start time to come)."""
    now = now or timezone.now()
    fitting = []
    for name, label in BUTTONS.items():
        if not can_proceed(getattr(campaign, name)):
            continue
        if name == "schedule" and not (campaign.starts_at and campaign.starts_at > now):
            continue
        fitting.append((name, label))
    return fitting


def _progress_context(campaign: Campaign) -> dict:
    progress = _progress(campaign)
    return {"campaign": campaign, "progress": progress, "rows": progress.rows(), "skipped": progress.skipped_rows()}


def campaign_page_context(model_admin, request, object_id) -> dict:
    """What the change page shows above the record: status, preview, buttons, progress."""
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None or not model_admin.has_view_or_change_permission(request, campaign):
        return {}
    can_act = model_admin.has_change_permission(request, campaign)
    return {
        "campaign": campaign,
        "can_act": can_act,
        "buttons": buttons_fitting(campaign) if can_act else [],
        "preview": _preview(campaign) if campaign.status in PREVIEWED else None,
        **audience_context(campaign, can_act=can_act),
        **_progress_context(campaign),
        "progress_url": reverse("admin:campaigns_campaign_progress", args=[campaign.pk]),
        "poll": campaign.status in POLLED,
        "poll_interval_ms": POLL_INTERVAL_MS,
        "time_zone": timezone.get_current_timezone_name(),
    }


def _campaign_allowed(model_admin, request, object_id, *, may) -> Campaign:
    """The campaign of the URL (one plain query: not the list's counts), if `may`, else 404 or 403."""
    try:
        campaign = Campaign.objects.select_related("template").filter(pk=int(unquote(object_id))).first()
    except ValueError:
        campaign = None
    if campaign is None:
        if not may(request):
            raise PermissionDenied
        raise Http404("No such campaign.")
    if not may(request, campaign):
        raise PermissionDenied
    return campaign


def campaign_progress_view(model_admin, request, object_id):
    """GET, view permission: the status and the progress fragment, for the page's poll. Two queries."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    campaign = _campaign_allowed(model_admin, request, object_id, may=model_admin.has_view_or_change_permission)
    html = render_to_string(TEMPLATES + "progress.html", _progress_context(campaign))
    return JsonResponse(
        {
            "status": campaign.status,
            "status_label": campaign.get_status_display(),
            "paused_reason": campaign.paused_reason,
            "poll": campaign.status in POLLED,
            "html": html,
        },
        headers={"Cache-Control": "no-store"},
    )


def campaign_status_view(model_admin, request, object_id, name):
    """POST only, change permission: one status button. A start or a resume rings a worker (the
    expansion and the sends are its work); a cancel answers a confirmation page, and only its
    "yes" (confirm=yes) cancels."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    campaign = _campaign_allowed(model_admin, request, object_id, may=model_admin.has_change_permission)
    if name not in BUTTONS:
        raise Http404("No such button.")
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    try:
        if not can_proceed(getattr(campaign, name)):
            raise CampaignTransitionRefused(
                f"A campaign that is {campaign.get_status_display().lower()} cannot {name}."
            )
        if name == "cancel" and request.POST.get("confirm") != CONFIRM:
            return _cancel_confirm_page(model_admin, request, campaign)
        reason = request.POST.get("reason", "").strip()[:500]
        detail = (reason or f"Paused by {request.user.get_username()}") if name == "pause" else ""
        updated = campaign_press(
            campaign=campaign, name=name, cause=CampaignCause.STAFF, actor=request.user, detail=detail
        )
    except (CampaignTransitionRefused, ValidationError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        model_admin.message_user(request, text, messages.ERROR)
    else:
        model_admin.message_user(
            request, f"Campaign “{updated.name}” is now {updated.get_status_display().lower()}.", messages.SUCCESS
        )
    return HttpResponseRedirect(change_url + "#campaign-actions")


def _cancel_confirm_page(model_admin, request, campaign: Campaign) -> TemplateResponse:
    progress = _progress(campaign)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Cancel the campaign “{campaign.name}”?",
        "campaign": campaign,
        "pending": progress.status_counts[RecipientStatus.PENDING],
        "tried": progress.tried,
        "action_url": reverse("admin:campaigns_campaign_status", args=[campaign.pk, "cancel"]),
        "change_url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATES + "cancel_confirm.html", context)


class CampaignAdminPages:
    """CampaignAdmin's pages beyond Django's: the new-campaign form as its add view, the change page's
    panel, the status buttons and the progress endpoint. Mixed in before admin.ModelAdmin."""

    change_form_template = TEMPLATES + "change_form.html"

    def add_view(self, request, form_url="", extra_context=None):
        return campaign_add_view(self, request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":  # a post of the (read-only) record gets Django's answer alone
            extra_context = {**(extra_context or {}), **campaign_page_context(self, request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view  # staff login and CSRF
        return [
            path(
                "<path:object_id>/status/<slug:name>/",
                view(lambda request, object_id, name: campaign_status_view(self, request, object_id, name)),
                name="campaigns_campaign_status",
            ),
            path(
                "<path:object_id>/audience/",
                view(lambda request, object_id: campaign_audience_view(self, request, object_id)),
                name="campaigns_campaign_audience",
            ),
            path(
                "<path:object_id>/progress/",
                view(lambda request, object_id: campaign_progress_view(self, request, object_id)),
                name="campaigns_campaign_progress",
            ),
            *super().get_urls(),
        ]
