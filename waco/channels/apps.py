from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Business accounts and their phone numbers: tokens, limits, quality, throughput."""

    name = "waco.channels"
    label = "channels"
    verbose_name = "Channels"
