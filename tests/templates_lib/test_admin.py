"""The templates admin: what staff see, drafts and revisions, submit and sync actions."""

import json

import pytest
from django.urls import reverse

from templates_lib.models import Template, TemplateAccount, TemplateStatus
from templates_lib.services import purpose_chain_set, template_apply_status
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.templates_lib.factories import BODY, PurposeFactory, TemplateFactory

CHANGELIST = "admin:templates_lib_template_changelist"


@pytest.mark.django_db
def test_the_template_list_shows_status_quality_category_reason_and_purposes(admin_client):
    template = TemplateFactory(name="order_shipped", status=TemplateStatus.SUBMITTED)
    template_apply_status(
        template=template, status="rejected", reason="INVALID_FORMAT", at=template.created_at, cause="webhook"
    )
    purpose_chain_set(
        purpose=PurposeFactory(key="order_update"), business_account=template.business_account, templates=[template]
    )

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    for text in ("order_shipped", "Rejected", "Unknown", "Utility", "INVALID_FORMAT", "order_update"):
        assert text in page


@pytest.mark.django_db
def test_the_change_page_shows_history_versions_and_purposes(admin_client):
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    template_apply_status(template=template, status="approved", at=template.created_at, cause="webhook")

    page = admin_client.get(reverse("admin:templates_lib_template_change", args=[template.pk])).content.decode()

    assert "Template status changes" in page and "Webhook" in page
    assert "Template versions" in page and "has shipped" in page
    assert "Purposes served" in page
    # Meta holds it live: its content is shown, not offered for editing.
    assert 'name="components"' not in page


@pytest.mark.django_db
def test_staff_add_a_draft_with_its_first_version(admin_client):
    account = TemplateFactory().business_account
    response = admin_client.post(
        reverse("admin:templates_lib_template_add"),
        {
            "business_account": account.pk,
            "name": "payment_due",
            "language": "en_US",
            "category": "UTILITY",
            "components": json.dumps([{"type": "BODY", "text": "Pay {{1}} by {{2}}."}]),
            "parameters": json.dumps(
                [
                    {"component": "body", "position": 1, "name": "total", "type": "currency"},
                    {"component": "body", "position": 2, "name": "due", "type": "date_time"},
                ]
            ),
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template = Template.objects.get(name="payment_due")
    assert template.status == TemplateStatus.DRAFT
    assert [p["type"] for p in template.current_version.parameters] == ["currency", "date_time"]


@pytest.mark.django_db
def test_parameters_that_do_not_fit_the_components_are_refused_in_the_form(admin_client):
    account = TemplateFactory().business_account
    response = admin_client.post(
        reverse("admin:templates_lib_template_add"),
        {
            "business_account": account.pk,
            "name": "payment_due",
            "language": "en_US",
            "category": "UTILITY",
            "components": json.dumps([{"type": "BODY", "text": "Pay {{1}}."}]),
            "parameters": json.dumps([{"component": "body", "position": 2, "type": "text"}]),
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    assert "placeholders without a declared parameter" in response.content.decode()
    assert not Template.objects.filter(name="payment_due").exists()


@pytest.mark.django_db
def test_editing_a_rejected_template_makes_a_new_version_and_a_draft(admin_client):
    template = TemplateFactory(status=TemplateStatus.REJECTED)
    response = admin_client.post(
        reverse("admin:templates_lib_template_change", args=[template.pk]),
        {
            "components": json.dumps([{"type": "BODY", "text": "Hello {{1}}, order {{2}} left today."}]),
            "parameters": "",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template.refresh_from_db()
    assert template.status == TemplateStatus.DRAFT and template.current_version.number == 2


@pytest.mark.django_db
def test_a_purpose_shows_its_chain_in_order(admin_client):
    first, second = TemplateFactory(name="shipped_a"), TemplateFactory(name="shipped_b")
    second.business_account = first.business_account
    second.save()
    purpose = PurposeFactory(key="order_update")
    purpose_chain_set(purpose=purpose, business_account=first.business_account, templates=[second, first])

    listing = admin_client.get(reverse("admin:templates_lib_purpose_changelist")).content.decode()
    assert "shipped_b [en_US] (approved) → shipped_a [en_US] (approved)" in listing
    page = admin_client.get(reverse("admin:templates_lib_purpose_change", args=[purpose.pk]))
    assert page.status_code == 200 and "chain (per business account" in page.content.decode().lower()


def test_submit_for_review_from_the_admin_creates_the_template_at_meta(
    transactional_db, settings, live_server, admin_client
):
    meta = sandbox_shop_wire(settings, live_server)
    template = TemplateFactory(business_account=meta.account, status=TemplateStatus.DRAFT, meta_template_id="")
    approved = TemplateFactory(business_account=meta.account)

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "submit_for_review", "_selected_action": [template.pk, approved.pk]},
        follow=True,
    )

    page = response.content.decode().lower()
    template.refresh_from_db()
    assert template.status == TemplateStatus.SUBMITTED
    assert template.meta_template_id == meta.listed()[template.name]["id"]
    assert "submitted, now submitted" in page
    assert f"{approved} is approved: not submitted".lower() in page


def test_sync_now_on_a_business_account_pulls_its_templates(transactional_db, settings, live_server, admin_client):
    meta = sandbox_shop_wire(settings, live_server)
    meta.create_elsewhere("welcome_back", category="MARKETING", components=BODY)

    response = admin_client.post(
        reverse("admin:templates_lib_templateaccount_changelist"),
        {"action": "sync_now", "_selected_action": [meta.account.pk]},
        follow=True,
    )

    assert "1 listed by Meta, 1 new, 0 changed" in response.content.decode()
    assert Template.objects.get(name="welcome_back").status == TemplateStatus.APPROVED
    listing = admin_client.get(reverse("admin:templates_lib_templateaccount_changelist")).content.decode()
    assert TemplateAccount.objects.get().name in listing


def _empty_inlines() -> dict:
    """Management forms of the template page's inlines, none of them filled in."""
    data = {}
    for prefix in ("purpose_links", "versions", "status_changes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data
