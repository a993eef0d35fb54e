"""Staff submit a draft for review in the browser and watch Meta's answer arrive."""

import os

import pytest
from django.contrib.auth import get_user_model

from templates_lib.models import Template, TemplateStatus
from templates_lib.services import purpose_chain_set
from tests.support.browser import screenshot
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.templates_lib.factories import PurposeFactory, TemplateFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def test_staff_submit_a_draft_and_see_it_approved(page, live_server, staff, settings):
    meta = sandbox_shop_wire(settings, live_server)
    draft = TemplateFactory(
        business_account=meta.account, name="order_shipped", status=TemplateStatus.DRAFT, meta_template_id=""
    )
    purpose_chain_set(purpose=PurposeFactory(key="order_update"), business_account=meta.account, templates=[draft])

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{live_server.url}/admin/templates_lib/template/")
    page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "submit_for_review")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "submitted, now submitted" in page.content()

    meta.deliver_webhooks()
    page.goto(f"{live_server.url}/admin/templates_lib/template/")
    row = page.locator("#result_list tbody tr", has_text="order_shipped")
    assert "Approved" in row.inner_text() and "order_update" in row.inner_text()
    screenshot(page, "admin-templates")

    page.goto(f"{live_server.url}/admin/templates_lib/template/{draft.pk}/change/")
    history = page.locator(".inline-group", has_text="Template status changes").inner_text()
    assert "Submit" in history and "Webhook" in history
    assert Template.objects.get(pk=draft.pk).status == TemplateStatus.APPROVED
