"""Template tags for the admin's own pages."""

from django import template
from django.apps import apps
from django.urls import reverse

register = template.Library()


def sandbox_installed() -> bool:
    return apps.is_installed("waco.sandbox")


@register.simple_tag
def demo_chat_url() -> str:
    """The demo chat page when the sandbox is installed (never in production), else ''."""
    return reverse("sandbox_chat:page") if sandbox_installed() else ""
