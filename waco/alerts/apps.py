from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alerts any app raises: one open alert per kind and subject, mailed to staff once."""

    name = "waco.alerts"
    label = "alerts"
    verbose_name = "Alerts"
