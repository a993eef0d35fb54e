from django.apps import AppConfig


class TemplatesLibConfig(AppConfig):
    """Message templates, their review lifecycle and purposes."""

    name = "templates_lib"
    label = "templates_lib"
    verbose_name = "Templates"
