"""The admin index's counts (waco.admin.index_counts), for the index template."""

from django import template

from waco.admin import index_counts

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_counts(context) -> list:
    return index_counts(context["request"].user)
