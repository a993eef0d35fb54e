"""Template webhooks: status, quality, category and components, all account-level.

Each finds its template by Meta's id, else by the account (the entry's WABA id),
name and language, and hands Meta's word to the services with the event's time,
so that whichever of webhook and sync comes first, the newest word wins. An event
about a template we do not know, or in words we do not map, asks for a sync of
the account: Meta's list then says where things stand.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from templates_lib import selectors, services
from templates_lib.meta import (
    category_from_meta,
    components_with_text,
    quality_from_meta,
    reason_text,
    status_from_meta,
)
from templates_lib.models import ChangeCause, Template
from templates_lib.tasks import sync_templates_for_account
from waco.channels.models import BusinessAccount
from waco.cloud_api.events import (
    TemplateCategoryEvent,
    TemplateComponentsEvent,
    TemplateEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
)
from waco.ingest.registry import HandlerOrder, register

logger = logging.getLogger(__name__)


def _at(event: TemplateEvent) -> datetime:
    # Meta dates every delivery; without it, the time we read it is the best bound we have.
    return event.entry_time or timezone.now()


def _sync_later(event: TemplateEvent, why: str) -> None:
    account = BusinessAccount.objects.filter(waba_id=event.waba_id).first() if event.waba_id else None
    logger.info("template %s (%s) %s: %s", event.template_id, event.template_name, why, account or "no account")
    if account is not None:
        # robust: a broker that is down must not fail the event; beat's sync comes anyway.
        transaction.on_commit(lambda: sync_templates_for_account.delay(account.pk), robust=True)


def _template(event: TemplateEvent) -> Template | None:
    template = selectors.template_for_meta(
        waba_id=event.waba_id,
        meta_template_id=event.template_id,
        name=event.template_name,
        language=event.language,
    )
    if template is None:
        _sync_later(event, "is not known here")
        return None
    if template.revising_rejected_copy and template.meta_template_id == event.template_id:
        return None  # about the rejected copy our revision replaces at its submit
    services.template_adopt_meta_id(template=template, meta_template_id=event.template_id)
    return template


@register("template_status", order=HandlerOrder.TEMPLATES, needs_phone_number=False)
def template_status_moves_the_lifecycle(event: TemplateStatusEvent, *, phone_number) -> None:
    template = _template(event)
    if template is None:
        return
    status = status_from_meta(event.event)
    if status is None:
        _sync_later(event, f"reported {event.event!r}")
        return
    services.template_apply_status(
        template=template,
        status=status,
        reason=reason_text(event.reason, event.rejection_detail),
        at=_at(event),
        cause=ChangeCause.WEBHOOK,
    )
    category = category_from_meta(event.category)
    if category is not None:
        services.template_apply_category(template=template, category=category, at=_at(event), cause=ChangeCause.WEBHOOK)


@register("template_quality", order=HandlerOrder.TEMPLATES, needs_phone_number=False)
def template_quality_is_recorded(event: TemplateQualityEvent, *, phone_number) -> None:
    template, quality = _template(event), quality_from_meta(event.new_quality_score)
    if template is not None and quality is not None:
        services.template_apply_quality(template=template, quality=quality, at=_at(event), cause=ChangeCause.WEBHOOK)


@register("template_category", order=HandlerOrder.TEMPLATES, needs_phone_number=False)
def template_category_is_recorded(event: TemplateCategoryEvent, *, phone_number) -> None:
    # The impending notice names the current category in new_category and the coming one in correct_category.
    word = event.correct_category if event.impending else event.new_category
    template, category = _template(event), category_from_meta(word)
    if template is not None and category is not None:
        services.template_apply_category(
            template=template, category=category, at=_at(event), cause=ChangeCause.WEBHOOK, impending=event.impending
        )


@register("template_components", order=HandlerOrder.TEMPLATES, needs_phone_number=False)
def template_components_make_a_version(event: TemplateComponentsEvent, *, phone_number) -> None:
    template = _template(event)
    if template is None:
        return
    current = template.current_version.components if template.current_version else []
    buttons = [
        {
            key: value
            for key, value in (
                ("type", button.type),
                ("text", button.text),
                ("url", button.url),
                ("phone_number", button.phone_number),
            )
            if value is not None
        }
        for button in event.buttons
    ]
    components = components_with_text(current, title=event.title, body=event.body, footer=event.footer, buttons=buttons)
    services.template_apply_components(
        template=template,
        components=components,
        at=_at(event),
        cause=ChangeCause.WEBHOOK,
        meta_template_id=event.template_id,
    )
