"""Reading admin pages in tests: the folded "details" part of a page, and whether a delete is offered."""

from django.test import Client
from django.urls import reverse


def details_part(page: str) -> str:
    """The HTML inside the page's collapsed parts (Django's "collapse" fieldsets and inlines render as
    <details>), joined; empty when the page folds nothing."""
    parts, start = [], page.find("<details")
    while start != -1:
        end = page.index("</details>", start)
        parts.append(page[start:end])
        start = page.find("<details", end)
    return "".join(parts)


def open_part(page: str) -> str:
    """The page without its collapsed parts: what a person sees without opening anything."""
    shown, start, end = [], page.find("<details"), 0
    while start != -1:
        shown.append(page[end:start])
        end = page.index("</details>", start)
        start = page.find("<details", end)
    shown.append(page[end:])
    return "".join(shown)


def delete_refused(client: Client, obj) -> bool:
    """The object's delete page answers 403, a posted delete too, and its change page offers no delete link."""
    opts = obj._meta
    delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return (
        client.get(delete_url).status_code == 403
        and client.post(delete_url, {"post": "yes"}).status_code == 403
        and change.status_code == 200
        and delete_url not in change.content.decode()
        and type(obj)._default_manager.filter(pk=obj.pk).exists()
    )


def delete_offered(client: Client, obj) -> bool:
    """The object's change page links to its delete page, which opens."""
    opts = obj._meta
    delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return delete_url in change.content.decode() and client.get(delete_url).status_code == 200
