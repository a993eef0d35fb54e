"""The CSV upload on a draft CSV campaign's admin page: the file goes to campaigns.audience_csv, which
stores all its rows or none; the page then says how many rows, new customers and consent entries."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from campaigns.audience_csv import (
    ADDRESS_COLUMNS,
    CONSENT_COLUMN,
    MAX_BYTES,
    PROOF_COLUMN,
    AudienceRefused,
    audience_csv_load,
)
from campaigns.models import Audience, Campaign, CampaignStatus


def audience_context(campaign: Campaign, *, can_act: bool) -> dict:
    """The upload form's context: for a CSV campaign; the form itself only while it is a draft."""
    if campaign.audience != Audience.CSV:
        return {}
    csv_columns = sorted({s["column"] for s in campaign.params.values() if s.get("source") == "csv"})
    return {
        "audience_csv": {
            "rows": campaign.audience_rows.count(),
            "upload": can_act and campaign.status == CampaignStatus.DRAFT,
            "url": reverse("admin:campaigns_campaign_audience", args=[campaign.pk]),
            "columns": " or ".join(ADDRESS_COLUMNS),
            "csv_columns": csv_columns,
            "consent": f"{CONSENT_COLUMN} (yes/no) with {PROOF_COLUMN}",
            "max_mb": MAX_BYTES // (1024 * 1024),
        }
    }


def campaign_audience_view(model_admin, request, object_id):
    """POST, change permission: load the uploaded file as the campaign's audience, or say why not."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None:
        raise Http404("No such campaign.")
    if not model_admin.has_change_permission(request, campaign):
        raise PermissionDenied
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk]) + "#campaign-audience"
    upload = request.FILES.get("file")
    if upload is None:
        model_admin.message_user(request, "Choose a CSV file to upload.", messages.ERROR)
        return HttpResponseRedirect(change_url)
    if upload.size > MAX_BYTES:
        model_admin.message_user(request, f"The file is over {MAX_BYTES // (1024 * 1024)} MB.", messages.ERROR)
        return HttpResponseRedirect(change_url)
    try:
        loaded = audience_csv_load(campaign=campaign, data=upload.read())
    except AudienceRefused as error:
        model_admin.message_user(request, "The file was refused: " + " ".join(error.messages), messages.ERROR)
    else:
        model_admin.message_user(
            request,
            f"{loaded.rows} row(s) loaded as the audience: {loaded.contacts_created} new customer(s), "
            f"{loaded.consents_recorded} consent entr(y/ies) recorded from the file.",
            messages.SUCCESS,
        )
    return HttpResponseRedirect(change_url)
