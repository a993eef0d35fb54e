"""Message templates on a business account: create, list, delete, a simulated review.

A template's review outcome is decided when it is submitted (rejected if its
name contains "reject" or is listed in config template_reject_names) and takes
effect at review_due_at: the status webhook is queued then, and every read
applies due reviews first, so the Graph API and the webhook never disagree.
"""

import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

from waco.sandbox.config import Config
from waco.sandbox.delivery import delivery_enqueue
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.graph.webhooks import template_status_body
from waco.sandbox.models import BusinessAccount, Delivery, DeliveryKind, Template, TemplateStatus

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
# Meta: lowercase letters, digits and underscores, up to 512 characters.
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}$")
MAX_TEMPLATES = 250
# {{1}} or {{name}}: positional or named parameters.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Sending refuses these statuses with their own codes; anything else not approved is 132001.
STATUS_SEND_ERRORS = {TemplateStatus.PAUSED: 132015, TemplateStatus.DISABLED: 132016}


def _new_template_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def _validate(payload: dict) -> tuple[str, str, str, list]:
    name, language = payload.get("name"), payload.get("language")
    category, components = payload.get("category"), payload.get("components")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise GraphError(100, "Param name must be lowercase letters, digits and underscores (max 512).")
    if not isinstance(language, str) or not language:
        raise GraphError(100, "The parameter language is required.")
    if category not in CATEGORIES:
        raise GraphError(100, f"Param category must be one of {', '.join(CATEGORIES)}.")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphError(100, "Param components must be a list of objects.")
    if not any(str(c.get("type", "")).upper() == "BODY" for c in components):
        raise GraphError(100, "A template needs a BODY component.")
    return name, language, category, components


def template_create(*, account: BusinessAccount, payload: dict, config: Config) -> Template:
    """Submit a template for review; it answers PENDING and is decided after the configured delay."""
    name, language, category, components = _validate(payload)
    if Template.objects.filter(account=account, name=name, language=language).exists():
        raise GraphError(100, f"Content in this language already exists for template {name} ({language}).")
    if Template.objects.filter(account=account).count() >= MAX_TEMPLATES:
        raise GraphError(100, f"The business account has reached its limit of {MAX_TEMPLATES} templates.")
    rejected = "reject" in name or name in config["template_reject_names"]
    due_at = timezone.now() + timedelta(seconds=config["template_review_delay_seconds"])
    with transaction.atomic():
        template = Template.objects.create(
            account=account,
            template_id=_new_template_id(),
            name=name,
            language=language,
            category=category,
            components=components,
            status=TemplateStatus.PENDING,
            review_outcome=TemplateStatus.REJECTED if rejected else TemplateStatus.APPROVED,
            review_due_at=due_at,
            rejected_reason=config["template_reject_reason"] if rejected else "NONE",
        )
        body = template_status_body(
            template=template,
            event=template.review_outcome,
            reason=template.rejected_reason,
            time=int(due_at.timestamp()),
        )
        delivery_enqueue(
            kind=DeliveryKind.TEMPLATE,
            body=body,
            ref=template.template_id,
            delay_seconds=config["template_review_delay_seconds"],
        )
    return template


def templates_review_apply_due(*, account: BusinessAccount) -> None:
    """Give every template whose review time has passed its decided status."""
    due = Template.objects.filter(account=account, status=TemplateStatus.PENDING, review_due_at__lte=timezone.now())
    for outcome in (TemplateStatus.APPROVED, TemplateStatus.REJECTED):
        due.filter(review_outcome=outcome).update(status=outcome)


def template_as_graph(template: Template) -> dict:
    data = {
        "name": template.name,
        "components": template.components,
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "id": template.template_id,
    }
    if template.status == TemplateStatus.REJECTED:
        data["rejected_reason"] = template.rejected_reason
    return data


def templates_list(
    *,
    account: BusinessAccount,
    name: str = "",
    status: str = "",
    limit: int = 25,
    after: str = "",
    page_url: str = "",
) -> dict:
    """GET message_templates: data[] and paging with cursors (the cursor is a row id).

    paging.next is an absolute URL (page_url plus the query), as Meta's is.
    """
    templates_review_apply_due(account=account)
    rows = Template.objects.filter(account=account).order_by("id")
    if name:
        rows = rows.filter(name=name)
    if status:
        rows = rows.filter(status=status.upper())
    if after:
        if not after.isdigit():
            raise GraphError(100, "Invalid cursor in param after.")
        rows = rows.filter(id__gt=int(after))
    page = list(rows[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    result = {"data": [template_as_graph(t) for t in page]}
    if page:
        result["paging"] = {"cursors": {"before": str(page[0].id), "after": str(page[-1].id)}}
        if more:
            query = {"limit": limit, "after": page[-1].id, **({"name": name} if name else {})}
            query.update({"status": status} if status else {})
            result["paging"]["next"] = f"{page_url}?{urlencode(query)}"
    return result


def template_delete(*, account: BusinessAccount, name: str, hsm_id: str = "") -> int:
    """DELETE by name (every language), or one template by name and hsm_id."""
    if not name:
        raise GraphError(100, "The parameter name is required.")
    rows = Template.objects.filter(account=account, name=name)
    if hsm_id:
        rows = rows.filter(template_id=hsm_id)
    ids = list(rows.values_list("template_id", flat=True))
    if not ids:
        raise GraphError(100, f"Message template {name!r} not found.")
    with transaction.atomic():
        # A review still pending for a deleted template is never announced.
        Delivery.objects.filter(kind=DeliveryKind.TEMPLATE, ref__in=ids, delivered_at__isnull=True).delete()
        rows.delete()
    return len(ids)


def template_for_send(*, account: BusinessAccount, name: str, language: str) -> Template:
    """The approved template a send names, or the Graph error Meta would answer."""
    templates_review_apply_due(account=account)
    template = Template.objects.filter(account=account, name=name, language=language).first()
    if template is None or template.status in (TemplateStatus.PENDING, TemplateStatus.REJECTED):
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    if template.status in STATUS_SEND_ERRORS:
        raise GraphError(STATUS_SEND_ERRORS[template.status])
    return template


def template_status_set(*, waba_id: str, name: str, language: str, status: str, reason: str = "NONE") -> Template:
    """Move a template to a status (e.g. PAUSED, DISABLED) and announce it by webhook."""
    status = TemplateStatus(status)
    with transaction.atomic():
        template = Template.objects.select_for_update().get(account__waba_id=waba_id, name=name, language=language)
        template.status = status
        template.review_outcome = status
        template.save(update_fields=["status", "review_outcome"])
        body = template_status_body(
            template=template, event=status, reason=reason, time=int(timezone.now().timestamp())
        )
        delivery_enqueue(kind=DeliveryKind.TEMPLATE, body=body, ref=template.template_id)
    return template


def _expected_params(components: list) -> dict[str, int]:
    """How many parameters each component of the template takes: 'header', 'body', 'button:<i>'."""
    expected = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            expected["body"] = len(set(PLACEHOLDER.findall(component.get("text", ""))))
        elif kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            text_params = len(set(PLACEHOLDER.findall(component.get("text", ""))))
            expected["header"] = text_params if header_format == "TEXT" else 1
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons", [])):
                if PLACEHOLDER.search(str(button.get("url", ""))):
                    expected[f"button:{index}"] = 1
    return expected


def _given_params(components: list) -> dict[str, int]:
    given = {}
    for component in components:
        kind = str(component.get("type", "")).lower()
        if kind == "button":
            # Only URL buttons have placeholders; quick-reply payloads and codes are free-form.
            if str(component.get("sub_type", "")).lower() != "url":
                continue
            kind = f"button:{component.get('index', 0)}"
        given[kind] = given.get(kind, 0) + len(component.get("parameters") or [])
    return given


def template_params_check(*, template: Template, send_components: list) -> None:
    """132000 when a component's parameter count differs from the template's placeholders."""
    expected = _expected_params(template.components)
    given = _given_params(send_components)
    for key in sorted(set(expected) | set(given)):
        want, got = expected.get(key, 0), given.get(key, 0)
        if want != got:
            component = key.split(":")[0]
            raise GraphError(
                132000,
                f"{component}: number of localizable_params ({got}) does not match "
                f"the expected number of params ({want})",
            )
