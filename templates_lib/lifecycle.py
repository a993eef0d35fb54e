"""Meta's word on a template, newest wins: status, quality, category and components.

Meta is the authority on a template it holds. Its word arrives twice, by
webhook and by the beat sync of the template list, in any order. Each aspect
keeps the time of the word last taken (the event's time, or the sync's), and
an older word arriving later changes nothing. Every status change runs a
django-fsm transition applied by waco.transitions.transition_apply (which records
it as a TemplateStatusChange) and is signalled.
Callers import these through templates_lib.services.
"""

from datetime import datetime

from django.db import transaction

from templates_lib import selectors, signals
from templates_lib.meta import content_signature
from templates_lib.models import (
    ChangeCause,
    Template,
    TemplateCategory,
    TemplateQuality,
    TemplateStatus,
    TemplateVersion,
)
from templates_lib.params import specs_infer, specs_parse
from waco.transitions import transition_apply

# The transition that takes a template to each status Meta can report.
TRANSITIONS = {
    TemplateStatus.SUBMITTED: "mark_in_review",
    TemplateStatus.APPROVED: "approve",
    TemplateStatus.REJECTED: "reject",
    TemplateStatus.PAUSED: "pause",
    TemplateStatus.DISABLED: "disable",
    TemplateStatus.ARCHIVED: "archive",
}


class TemplateStateError(Exception):
    """The operation does not fit the template's status (submitting twice, revising a live one)."""


def whole_seconds(at: datetime) -> datetime:
    """Meta's webhook times are whole seconds; ours are kept the same, so an event of the
    same second as our submit is not taken for an older one."""
    return at.replace(microsecond=0)


def template_lock(template: Template) -> Template:
    """The template's row, locked until the transaction ends."""
    return Template.objects.select_for_update().select_related("business_account").get(pk=template.pk)


def template_adopt_meta_id(*, template: Template, meta_template_id: str | None) -> None:
    """Record Meta's id on a template found by name (our submit's answer may still be out)."""
    if meta_template_id and not template.meta_template_id:
        Template.objects.filter(pk=template.pk, meta_template_id="").update(meta_template_id=meta_template_id)
        template.refresh_from_db()


def version_add(
    template: Template,
    *,
    components: list,
    parameters: list,
    source: str,
    meta_template_id: str = "",
    submitted_at: datetime | None = None,
) -> TemplateVersion:
    """The next version of a (locked) template, made its current one."""
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = TemplateVersion.objects.create(
        template=template,
        number=last + 1,
        components=components,
        parameters=parameters,
        source=source,
        meta_template_id=meta_template_id,
        submitted_at=submitted_at,
    )
    template.current_version = version
    template.save(update_fields=["current_version", "updated_at"])
    return version


def status_transition(locked: Template, new: str, *, cause: str, reason: str, at: datetime) -> None:
    """Run the transition to `new` on a locked row, record it and signal it."""
    old = locked.status
    if new == TemplateStatus.DRAFT:
        name = "revise"
    elif new == TemplateStatus.SUBMITTED and cause == ChangeCause.SUBMIT:
        name = "submit"
    else:
        name = TRANSITIONS[new]
    at = whole_seconds(at)
    locked.status_at = at
    transition_apply(
        locked,
        transition=name,
        history="status_changes",
        cause=cause,
        detail=reason,
        now=at,
        record={"version_id": locked.current_version_id},
        **({"reason": reason} if new == TemplateStatus.REJECTED else {}),
    )
    # Only a template that was serving can leave a purpose without one; a draft being submitted cannot.
    keys = list(locked.purposes.values_list("key", flat=True)) if old == TemplateStatus.APPROVED else []
    unserved = selectors.purposes_unserved(business_account=locked.business_account, purpose_keys=keys) if keys else []
    signals.template_status_changed.send(
        sender=Template,
        template=locked,
        old=old,
        new=new,
        reason=reason,
        cause=cause,
        at=at,
        unserved_purposes=unserved,
    )


@transaction.atomic
def template_apply_status(*, template: Template, status: str, reason: str = "", at: datetime, cause: str) -> bool:
    """Take Meta's word on a template's status, unless a newer word was already taken.

    Idempotent: the same status again changes nothing, though it moves the time
    forward (a sync that confirms a status makes older events stale). Returns
    True when the status changed.
    """
    status = TemplateStatus(status)
    if status not in TRANSITIONS:
        raise TemplateStateError(f"Meta cannot move a template to {status}")
    at = whole_seconds(at)
    locked = template_lock(template)
    if locked.status_at is not None and at < locked.status_at:
        return False
    if locked.status == status:
        locked.status_at = at
        fields = ["status_at", "updated_at"]
        if status == TemplateStatus.REJECTED and reason and reason != locked.rejection_reason:
            locked.rejection_reason = reason
            fields.append("rejection_reason")
        locked.save(update_fields=fields)
        template.refresh_from_db()
        return False
    status_transition(locked, status, cause=cause, reason=reason, at=at)
    template.refresh_from_db()
    return True


@transaction.atomic
def template_apply_quality(*, template: Template, quality: str, at: datetime, cause: str) -> bool:
    """Take Meta's quality rating (GREEN, YELLOW, RED, UNKNOWN), newest wins. True when it changed."""
    quality = TemplateQuality(quality)
    at = whole_seconds(at)
    locked = template_lock(template)
    if locked.quality_at is not None and at < locked.quality_at:
        return False
    old, locked.quality, locked.quality_at = locked.quality, quality, at
    locked.save(update_fields=["quality", "quality_at", "updated_at"])
    if old != quality:
        signals.template_quality_changed.send(
            sender=Template, template=locked, old=old, new=quality, cause=cause, at=at
        )
    template.refresh_from_db()
    return old != quality


@transaction.atomic
def template_apply_category(
    *, template: Template, category: str, at: datetime, cause: str, impending: bool = False
) -> bool:
    """Take Meta's category, newest wins. With `impending`, Meta only announced that the
    category will become `category`: it is kept as category_pending. True when anything changed."""
    category = TemplateCategory(category)
    at = whole_seconds(at)
    locked = template_lock(template)
    if locked.category_at is not None and at < locked.category_at:
        return False
    before = (locked.category, locked.category_pending)
    if impending:
        locked.category_pending = "" if category == locked.category else category
    else:
        locked.category, locked.category_pending = category, ""
    locked.category_at = at
    locked.save(update_fields=["category", "category_pending", "category_at", "updated_at"])
    changed = before != (locked.category, locked.category_pending)
    if changed:
        signals.template_category_changed.send(
            sender=Template, template=locked, old=before[0], new=category, impending=impending, cause=cause, at=at
        )
    template.refresh_from_db()
    return changed


@transaction.atomic
def template_apply_components(
    *, template: Template, components: list, at: datetime, cause: str, meta_template_id: str = ""
) -> TemplateVersion | None:
    """Take the components Meta holds, newest wins. A new version when the content differs,
    or when Meta holds it under another id; declared parameters of placeholders that
    remain are kept, new placeholders are declared as text. Returns the new version."""
    at = whole_seconds(at)
    locked = template_lock(template)
    if locked.components_at is not None and at < locked.components_at:
        return None
    locked.components_at = at
    locked.save(update_fields=["components_at", "updated_at"])
    current = locked.current_version
    meta_template_id = meta_template_id or locked.meta_template_id
    if current is not None and meta_template_id and not current.meta_template_id:
        # The version we submitted, or a draft Meta made: now known under Meta's id.
        current.meta_template_id = meta_template_id
        current.submitted_at = current.submitted_at or at
        current.save(update_fields=["meta_template_id", "submitted_at"])
    if (
        current is not None
        and current.meta_template_id == meta_template_id
        and content_signature(current.components) == content_signature(components)
    ):
        template.refresh_from_db()
        return None
    previous = specs_parse(current.parameters) if current else []
    version = version_add(
        locked,
        components=components,
        parameters=[spec.as_dict() for spec in specs_infer(components, previous)],
        source=cause,
        meta_template_id=meta_template_id,
        submitted_at=at if meta_template_id else None,
    )
    template.refresh_from_db()
    return version
