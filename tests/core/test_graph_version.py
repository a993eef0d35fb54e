"""The configured Graph API version is watched: `check --deploy` warns from 90 days before Meta ends
it (never an error: `migrate` runs), and beat's daily job alerts staff, critical once it has ended."""

from datetime import date

import pytest
from django.core import checks

from waco import graph_version
from waco.alerts.models import Alert, AlertSeverity
from waco.cloud_api.versions import GRAPH_API_VERSIONS, version_standing
from waco.periodic import registered_jobs

V24_ENDS = date(2028, 2, 18)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2027, 11, 19), "ok"),  # 91 days before
        (date(2027, 11, 20), "ending"),  # 90 days before
        (date(2028, 2, 17), "ending"),
        (V24_ENDS, "ended"),
        (date(2029, 1, 1), "ended"),
    ],
)
def test_a_version_is_ending_from_90_days_before_its_end(today, state):
    assert version_standing("v24.0", today=today).state == state


def test_a_version_without_an_end_is_fine_and_an_unknown_one_is_named():
    assert version_standing("v26.0", today=date(2030, 1, 1)).state == "ok"
    unknown = version_standing("v99.0", today=date(2026, 12, 7))
    assert unknown.state == "unknown" and "not in Waco's table" in unknown.message
    assert unknown.newest == max(GRAPH_API_VERSIONS, key=lambda v: GRAPH_API_VERSIONS[v][0]) == "v26.0"


def deploy_warnings() -> list[str]:
    return [m.id for m in checks.run_checks(include_deployment_checks=True) if m.id == graph_version.CHECK_ID]


def test_the_deploy_check_warns_near_the_end_and_plain_checks_never_do(settings):
    settings.WACO_GRAPH_API_VERSION = "v24.0"
    settings.WACO_TODAY = "2027-06-01"
    assert deploy_warnings() == []
    settings.WACO_TODAY = "2027-12-01"
    [warning] = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == graph_version.CHECK_ID]
    assert warning.level == checks.WARNING and "v24.0 ends on 2028-02-18" in warning.msg and "v26.0" in warning.msg
    settings.WACO_TODAY = "2028-03-01"
    assert deploy_warnings() == [graph_version.CHECK_ID]  # still a warning after the end, never an error
    assert not [m for m in checks.run_checks() if m.id == graph_version.CHECK_ID]  # what migrate runs


@pytest.mark.django_db
def test_the_daily_watch_warns_turns_critical_after_the_end_and_resolves_on_a_newer_version(settings, mailoutbox):
    settings.WACO_GRAPH_API_VERSION = "v24.0"
    settings.WACO_TODAY = "2027-06-01"
    assert graph_version.graph_version_watch() == "ok" and not Alert.objects.exists()

    settings.WACO_TODAY = "2027-12-01"
    assert graph_version.graph_version_watch() == "ending"
    assert graph_version.graph_version_watch() == "ending"  # daily again: the same alert
    [alert] = Alert.objects.all()
    assert (alert.kind, alert.severity, alert.resolved_at) == ("graph_api_version", AlertSeverity.WARNING, None)

    settings.WACO_TODAY = "2028-02-18"
    assert graph_version.graph_version_watch() == "ended"
    [alert] = Alert.objects.all()
    assert alert.severity == AlertSeverity.CRITICAL and "ended on 2028-02-18" in alert.detail

    settings.WACO_GRAPH_API_VERSION = "v26.0"
    assert graph_version.graph_version_watch() == "ok"
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_beat_runs_the_watch_daily():
    [job] = [job for job in registered_jobs() if job.name == "waco.watch_graph_version"]
    assert (job.task, job.every_seconds) == ("waco.tasks.watch_graph_version", 86_400)
