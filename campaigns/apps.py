from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Marketing and notice broadcasts: a template to a segment, with per-recipient outcomes."""

    name = "campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
