"""One item of Meta's template list, taken as Meta's word at the sync's time.

templates_lib.services.templates_sync calls these; each runs in its own transaction.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from templates_lib.lifecycle import (
    template_apply_category,
    template_apply_components,
    template_apply_quality,
    template_apply_status,
    whole_seconds,
)
from templates_lib.meta import category_from_meta, quality_from_meta, reason_text, status_from_meta
from templates_lib.models import ChangeCause, Template, TemplateStatus
from templates_lib.selectors import language_normalize
from waco.channels.models import BusinessAccount
from waco.cloud_api.values import as_dict, as_id, as_str, dicts

logger = logging.getLogger(__name__)

GONE_REASON = "no longer listed by Meta (deleted)"


@dataclass
class SyncOutcome:
    created: int = 0
    changed: int = 0


def _find(business_account: BusinessAccount, meta_template_id: str, name: str, language: str) -> Template | None:
    """By Meta's id, else by name and language: names are unique per language at Meta, so a
    local row of that name holding another id is the same template, re-created there."""
    templates = Template.objects.filter(business_account=business_account)
    return (
        templates.filter(meta_template_id=meta_template_id).first()
        or templates.filter(name=name, language=language).first()
    )


def sync_item(*, business_account: BusinessAccount, item: dict, now: datetime) -> SyncOutcome:
    """Create or update the local template for one listed item."""
    meta_template_id = as_id(item.get("id"))
    name, language = as_str(item.get("name")), language_normalize(as_str(item.get("language")))
    category = category_from_meta(as_str(item.get("category")))
    if not (meta_template_id and name and language):
        logger.warning("template list item without id, name or language: %r", item)
        return SyncOutcome()
    outcome = SyncOutcome()
    template = _find(business_account, meta_template_id, name, language)
    if template is None:
        if category is None:
            logger.warning("template %s [%s] listed without a known category", name, language)
            return outcome
        template = Template.objects.create(
            business_account=business_account,
            name=name,
            language=language,
            category=category,
            meta_template_id=meta_template_id,
        )
        outcome.created = 1
    elif template.revising_rejected_copy and template.meta_template_id == meta_template_id:
        return outcome
    elif template.meta_template_id != meta_template_id:
        Template.objects.filter(pk=template.pk).update(meta_template_id=meta_template_id)
        template.refresh_from_db()
    changed = False
    components = dicts(item.get("components"))
    if components or template.current_version_id is None:
        version = template_apply_components(
            template=template,
            components=components,
            at=now,
            cause=ChangeCause.SYNC,
            meta_template_id=meta_template_id,
        )
        changed |= version is not None
    if category is not None:
        changed |= template_apply_category(template=template, category=category, at=now, cause=ChangeCause.SYNC)
    status = status_from_meta(as_str(item.get("status")))
    if status is not None:
        reason = reason_text(as_str(item.get("rejected_reason"))) if status == TemplateStatus.REJECTED else ""
        changed |= template_apply_status(
            template=template, status=status, reason=reason, at=now, cause=ChangeCause.SYNC
        )
    quality = quality_from_meta(as_str(as_dict(item.get("quality_score")).get("score")))
    if quality is not None:
        changed |= template_apply_quality(template=template, quality=quality, at=now, cause=ChangeCause.SYNC)
    outcome.changed = int(changed and not outcome.created)
    return outcome


def sync_absent(*, business_account: BusinessAccount, listed_ids: set[str], now: datetime) -> int:
    """Templates Meta no longer lists are gone there: archived. Returns how many changed.

    A template whose status was taken at or after the list's time is left alone
    (it was submitted while the list was read), as is one being submitted now.
    """
    changed = 0
    absent = (
        Template.objects.filter(business_account=business_account, submit_started_at__isnull=True)
        .exclude(meta_template_id="")
        .exclude(meta_template_id__in=listed_ids)
    )
    for template in absent:
        if template.status == TemplateStatus.DRAFT:
            # A revision's rejected copy is gone already: nothing left to delete at submit.
            Template.objects.filter(pk=template.pk).update(meta_template_id="")
        elif template.status != TemplateStatus.ARCHIVED and (
            template.status_at is None or template.status_at < whole_seconds(now)
        ):
            changed += template_apply_status(
                template=template, status=TemplateStatus.ARCHIVED, reason=GONE_REASON, at=now, cause=ChangeCause.SYNC
            )
    return changed
