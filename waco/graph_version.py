"""The configured Graph API version, watched: a deploy check warns from 90 days before Meta ends it,
and beat's daily job alerts staff (a warning, critical once it has ended). Never an error that
stops `migrate` or a deploy: the version still answers until its day.

"Today" is WACO_TODAY when set (tests pin the date), else the real date.
"""

from datetime import date

from django.conf import settings
from django.core.checks import Warning
from django.utils import timezone

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve
from waco.cloud_api.versions import version_standing

ALERT_KIND = "graph_api_version"
CHECK_ID = "waco.W101"


def today() -> date:
    pinned = getattr(settings, "WACO_TODAY", "")
    return date.fromisoformat(pinned) if pinned else timezone.localdate()


def graph_version_standing():
    return version_standing(settings.WACO_GRAPH_API_VERSION, today=today())


def graph_version_check(app_configs=None, **kwargs) -> list[Warning]:
    """`manage.py check --deploy`: a warning when the configured version ends within 90 days, has
    ended, or is unknown."""
    standing = graph_version_standing()
    if standing.state == "ok":
        return []
    return [Warning(standing.message, id=CHECK_ID, hint="Set WACO_GRAPH_API_VERSION to a newer version.")]


def graph_version_watch() -> str:
    """Beat, daily: alert staff while the version is ending (warning) or ended/unknown (critical);
    resolve once it is fine again. Returns the state."""
    standing = graph_version_standing()
    subject = "the configured Graph API version"  # one alert, resolved when a newer version is configured
    if standing.state == "ok":
        alert_resolve(kind=ALERT_KIND, subject=subject)
    else:
        severity = AlertSeverity.WARNING if standing.state == "ending" else AlertSeverity.CRITICAL
        alert_raise(kind=ALERT_KIND, subject=subject, detail=standing.message, severity=severity)
    return standing.state
