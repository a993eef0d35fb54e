"""Raise and resolve alerts. Any app calls these; this app imports none of them."""

from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone

from waco.alerts.models import Alert, AlertSeverity


def alert_raise(*, kind: str, subject: str, detail: str = "", severity: str = AlertSeverity.WARNING) -> Alert:
    """Open an alert (or refresh the open one of the same kind and subject) and mail staff once."""
    subject = subject[:255]
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(kind=kind, subject=subject, resolved_at__isnull=True).first()
        if alert:
            alert.detail = detail
            alert.save(update_fields=["detail"])
            return alert
        alert = Alert.objects.create(
            kind=kind, subject=subject, detail=detail, severity=severity, opened_at=timezone.now()
        )
    transaction.on_commit(
        lambda: mail_admins(f"[Waco {severity}] {kind}: {subject}", detail or subject, fail_silently=True)
    )
    return alert


def alert_resolve(*, kind: str, subject: str) -> int:
    return Alert.objects.filter(kind=kind, subject=subject[:255], resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
