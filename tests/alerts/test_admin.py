"""Alerts are resolved, never deleted or edited, in the admin; their full text (raw answers, ids) is folded."""

import pytest
from django.utils import timezone

from tests.support.admin_pages import delete_refused, details_part, open_part
from waco.alerts.models import Alert
from waco.alerts.services import alert_raise

pytestmark = pytest.mark.django_db

DETAIL = 'Stripe answered 401: {"error": {"type": "invalid_request_error", "request_log_url": "req_8Hk2"}}'


def test_an_alert_cannot_be_deleted_or_added(admin_client):
    alert = alert_raise(kind="stripe_auth", subject="Stripe refused Waco's secret key", detail=DETAIL)
    assert delete_refused(admin_client, alert)
    assert admin_client.get("/admin/alerts/alert/add/").status_code == 403
    changelist = admin_client.get("/admin/alerts/alert/").content.decode()
    assert 'value="delete_selected"' not in changelist and 'value="resolve"' in changelist


def test_the_full_detail_is_folded_and_its_first_line_shown(admin_client):
    alert = alert_raise(kind="stripe_auth", subject="Stripe refused Waco's secret key", detail=DETAIL + "\nmore")
    page = admin_client.get(f"/admin/alerts/alert/{alert.pk}/change/").content.decode()
    folded, shown = details_part(page), open_part(page)
    assert "field-detail" in folded and "field-detail" not in shown
    assert "req_8Hk2" in folded and "field-summary" in shown and "Stripe answered 401" in shown
    assert 'name="subject"' not in page and 'name="detail"' not in page  # raised by the code, not edited


def test_resolving_stays_an_action(admin_client):
    alert = alert_raise(kind="number_paused", subject="+971 50 000 0001", detail="paused")
    admin_client.post("/admin/alerts/alert/", {"action": "resolve", "_selected_action": [alert.pk]})
    assert Alert.objects.get(pk=alert.pk).resolved_at <= timezone.now()
