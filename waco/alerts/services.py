"""Raise and resolve alerts. Any app calls these; this app imports none of them."""

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone

from waco.alerts.models import Alert, AlertSeverity


def alert_raise(
    *, kind: str, subject: str, detail: str = "", severity: str = AlertSeverity.WARNING, link: str = ""
) -> Alert:
    """Open an alert (or refresh the open one of the same kind and subject) and mail staff once, and
    again if the open one turns critical.

    `link` is where staff act on it (a path in this site); the mail carries it.
    """
    subject = subject[:255]
    link = link[:500]
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(kind=kind, subject=subject, resolved_at__isnull=True).first()
        if alert:
            escalated = severity == AlertSeverity.CRITICAL and alert.severity != AlertSeverity.CRITICAL
            alert.detail = detail
            alert.link = link or alert.link
            alert.severity = AlertSeverity.CRITICAL if escalated else alert.severity
            alert.save(update_fields=["detail", "link", "severity"])
            if not escalated:
                return alert
            link = alert.link
        else:
            alert = Alert.objects.create(
                kind=kind, subject=subject, detail=detail, severity=severity, link=link, opened_at=timezone.now()
            )
    body = detail or subject
    if link:  # a path in this site is mailed as an address staff can open
        body = f"{body}\n\nOpen: {settings.WACO_PUBLIC_URL + link if link.startswith('/') else link}"
    transaction.on_commit(lambda: mail_admins(f"[Waco {severity}] {kind}: {subject}", body, fail_silently=True))
    return alert


def alert_acknowledge(*, kind: str, link: str) -> int:
    """Staff started on the open alerts of this kind about `link` (e.g. answered the customer): noted, still open."""
    return Alert.objects.filter(kind=kind, link=link, resolved_at__isnull=True, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )


def alert_resolve_link(*, kind: str, link: str) -> int:
    """Resolve the open alerts of this kind about `link` (e.g. the conversation was handed back)."""
    return Alert.objects.filter(kind=kind, link=link, resolved_at__isnull=True).update(resolved_at=timezone.now())


def alert_resolve(*, kind: str, subject: str) -> int:
    return Alert.objects.filter(kind=kind, subject=subject[:255], resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
