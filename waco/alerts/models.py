from django.db import models
from django.db.models import Q


class AlertSeverity(models.TextChoices):
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Alert(models.Model):
    """Something staff must look at: a paused number, a template that stopped, an unknown outcome."""

    kind = models.CharField(max_length=64)
    severity = models.CharField(max_length=16, choices=AlertSeverity.choices)
    subject = models.CharField(max_length=255, help_text="What it is about, e.g. a phone number or template.")
    detail = models.TextField(blank=True)
    link = models.CharField(
        max_length=500, blank=True, help_text="Where staff act on it: a path in this site, e.g. a conversation's page."
    )
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff started on it (e.g. answered the customer); still open."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One open alert per kind and subject: a repeat updates it rather than spamming staff.
            models.UniqueConstraint(
                fields=["kind", "subject"], condition=Q(resolved_at__isnull=True), name="one_open_alert_per_subject"
            )
        ]

    def __str__(self):
        return f"{self.severity}: {self.kind} {self.subject}"
