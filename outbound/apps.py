from django.apps import AppConfig


class OutboundConfig(AppConfig):
    """The send path: policy, rate limit, retries, statuses."""

    name = "outbound"
    label = "outbound"
    verbose_name = "Outbound"
