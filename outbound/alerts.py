"""Alerts raised (through waco.alerts) from other apps' signals: a template stopped, a purpose has no template left."""

from outbound import services
from outbound.models import OutboundMessage
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE

# Template states in which sends of it fail (132015 paused, 132016 disabled).
STOPPED_STATES = {"paused", "disabled", "rejected", "archived"}


def on_template_status_changed(sender, *, template, old, new, reason="", unserved_purposes=(), **kwargs) -> None:
    subject = f"template {template.name} ({template.language}) of {template.business_account}"
    if new in STOPPED_STATES:
        alert_raise(kind="template_stopped", subject=subject, detail=f"{old} -> {new}: {reason}".strip())
    elif new == "approved":
        alert_resolve(kind="template_stopped", subject=subject)
        for purpose in template.purposes.values_list("key", flat=True):  # it serves them again
            alert_resolve(kind="unusable_purpose", subject=f"{template.business_account}: {purpose}")
    for purpose in unserved_purposes:
        alert_raise(
            kind="unusable_purpose",
            subject=f"{template.business_account}: {purpose}",
            detail=f"No approved template is left for {purpose!r} after {template.name} became {new}.",
            severity=AlertSeverity.CRITICAL,
        )


def on_phone_number_resumed(sender, *, phone_number, **kwargs) -> None:
    """Messages held while the number was paused go now; the pause alert is over."""
    alert_resolve(kind="number_paused", subject=str(phone_number))
    for queue in (QUEUE_SERVICE, QUEUE_MARKETING):
        services.outbox_ring(queue)


def on_contact_merged(sender, *, survivor, merged_id, **kwargs) -> None:
    """Messages to either record of the person stay with the one that survives."""
    OutboundMessage.objects.filter(contact_id=merged_id).update(contact=survivor)
