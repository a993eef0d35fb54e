"""Operations on templates and purposes, callable without HTTP or Celery.

Ours: drafts and their revisions, submitting through the Graph API, the sync of
Meta's template list, purpose chains and rendering. Meta's word on a template
(status, quality, category, components; newest wins) is templates_lib.lifecycle,
re-exported here so that callers need one module.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from templates_lib.lifecycle import (  # noqa: F401  (part of this module's API)
    TemplateStateError,
    status_transition,
    template_adopt_meta_id,
    template_apply_category,
    template_apply_components,
    template_apply_quality,
    template_apply_status,
    template_lock,
    version_add,
)
from templates_lib.meta import LIST_FIELDS, status_from_meta
from templates_lib.models import (
    ChangeCause,
    Purpose,
    PurposeTemplate,
    Template,
    TemplateCategory,
    TemplateStatus,
    TemplateSyncRun,
    TemplateVersion,
)
from templates_lib.params import TemplateDefinitionError, specs_check, specs_infer, specs_parse, uses_named_parameters
from templates_lib.rendering import TemplateRenderError, render
from templates_lib.selectors import purpose_resolve  # noqa: F401  (part of this module's API)
from templates_lib.sync import sync_absent, sync_item
from waco.channels.models import BusinessAccount
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import ErrorClass, GraphError, error_for_class
from waco.cloud_api.values import as_id, as_str

logger = logging.getLogger(__name__)

# A submit claimed longer ago than this was lost with its process; the client's
# timeouts end a real call within seconds, so five minutes never cuts one short.
SUBMIT_LEASE = timedelta(minutes=5)


class TemplateSubmitError(Exception):
    """The Graph API refused or failed a submit; the template is left as it was, with the error."""

    def __init__(self, message: str, *, graph_error: GraphError):
        super().__init__(message)
        self.graph_error = graph_error


def _client(business_account: BusinessAccount, client: GraphClient | None) -> GraphClient:
    return client or GraphClient(business_account.access_token)


# --- drafts and versions --------------------------------------------------------------


def _checked_parameters(components: list, parameters: list | None, previous: list | None = None) -> list:
    if parameters is None:
        specs = specs_infer(components, specs_parse(previous or []))
    else:
        specs = specs_parse(parameters)
    specs_check(specs, components)
    return [spec.as_dict() for spec in specs]


@transaction.atomic
def template_create_draft(
    *,
    business_account: BusinessAccount,
    name: str,
    language: str,
    category: str,
    components: list,
    parameters: list | None = None,
) -> Template:
    """A new template in draft, with its first version.

    Without `parameters`, every placeholder is declared as text. Raises
    ValidationError for a bad name, language or category, and
    TemplateDefinitionError when the parameters do not fit the components.
    """
    checked = _checked_parameters(components, parameters)
    template = Template(business_account=business_account, name=name, language=language, category=category)
    template.full_clean(exclude=["current_version"])
    template.save()
    version_add(template, components=components, parameters=checked, source=ChangeCause.STAFF)
    return template


@transaction.atomic
def template_revise(*, template: Template, components: list, parameters: list | None = None) -> TemplateVersion:
    """New content for a draft or a rejected template: a new version, and a draft again.

    A template Meta holds live (submitted, approved, paused...) cannot be revised:
    GraphClient has no edit call, and a new create would clash with its name.
    Make a template with a new name and put it first in the purpose's chain.
    """
    locked = template_lock(template)
    if not can_proceed(locked.revise):
        raise TemplateStateError(f"{locked} is {locked.status}; only drafts and rejected templates can be revised")
    previous = locked.current_version.parameters if locked.current_version else []
    checked = _checked_parameters(components, parameters, previous)
    version = version_add(locked, components=components, parameters=checked, source=ChangeCause.STAFF)
    if locked.status == TemplateStatus.REJECTED:
        status_transition(locked, TemplateStatus.DRAFT, cause=ChangeCause.STAFF, reason="revised", at=timezone.now())
    template.refresh_from_db()
    return version


# --- submit ---------------------------------------------------------------------------


def _create_body(template: Template, version: TemplateVersion) -> dict:
    body = {
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "components": version.components,
    }
    if uses_named_parameters(version.components):
        body["parameter_format"] = "NAMED"
    return body


def template_submit(*, template: Template, client: GraphClient | None = None, now: datetime | None = None) -> Template:
    """Submit a draft's current version for review through the Graph API.

    The template is claimed first (submit_started_at), so two clicks cannot
    submit twice, and no transaction is held open during the HTTP call. A
    rejected copy of the name still at Meta is deleted before the new create.
    On a Graph error the template stays a draft, the error is recorded on it,
    and TemplateSubmitError is raised; a timeout whose outcome is unknown is
    settled by the next sync, which finds the template if Meta made it.
    """
    now = now or timezone.now()
    fresh = Q(submit_started_at__isnull=True) | Q(submit_started_at__lt=now - SUBMIT_LEASE)
    claimed = Template.objects.filter(fresh, pk=template.pk, status=TemplateStatus.DRAFT).update(submit_started_at=now)
    template.refresh_from_db()
    if not claimed:
        busy = template.status == TemplateStatus.DRAFT
        raise TemplateStateError(f"{template} is {'being submitted' if busy else template.status}: not submitted")
    account, version = template.business_account, template.current_version
    client = _client(account, client)
    try:
        if template.meta_template_id:
            client.delete_template(account.waba_id, template.name, hsm_id=template.meta_template_id)
            Template.objects.filter(pk=template.pk).update(meta_template_id="")
        answer = client.create_template(account.waba_id, _create_body(template, version))
        meta_template_id = as_id(answer.get("id"))
        if meta_template_id is None:
            raise error_for_class(ErrorClass.UNCLASSIFIED, "create answered without an id", may_have_left=True)
    except GraphError as exc:
        unknown = " (outcome unknown: the next sync finds it if Meta made it)" if exc.may_have_left else ""
        Template.objects.filter(pk=template.pk).update(
            submit_started_at=None, last_error=f"submit: {exc}{unknown}", last_error_at=now
        )
        template.refresh_from_db()
        raise TemplateSubmitError(f"Meta refused {template}: {exc}{unknown}", graph_error=exc) from exc
    _submit_record(template, version, answer, meta_template_id, now)
    template.refresh_from_db()
    return template


@transaction.atomic
def _submit_record(template: Template, version: TemplateVersion, answer: dict, meta_template_id: str, now) -> None:
    locked = template_lock(template)
    TemplateVersion.objects.filter(pk=version.pk).update(meta_template_id=meta_template_id, submitted_at=now)
    locked.meta_template_id = meta_template_id
    locked.submit_started_at = None
    locked.last_error = ""
    locked.save(update_fields=["meta_template_id", "submit_started_at", "last_error", "updated_at"])
    # The review's webhook may have come first and moved it on: Meta's word stands.
    if locked.status == TemplateStatus.DRAFT:
        status_transition(locked, TemplateStatus.SUBMITTED, cause=ChangeCause.SUBMIT, reason="", at=now)
    category = as_str(answer.get("category"))
    if category in TemplateCategory.values and category != locked.category:
        template_apply_category(template=locked, category=category, at=now, cause=ChangeCause.SUBMIT)
    # Meta may decide at once (APPROVED, REJECTED); PENDING is what the submit said already,
    # and taking it again could undo a review webhook of the same second that came first.
    status = status_from_meta(as_str(answer.get("status")))
    if status not in (None, TemplateStatus.SUBMITTED):
        template_apply_status(template=locked, status=status, at=now, cause=ChangeCause.SUBMIT)


# --- sync -----------------------------------------------------------------------------


def templates_sync(
    *, business_account: BusinessAccount, now: datetime, client: GraphClient | None = None
) -> TemplateSyncRun:
    """Pull the account's template list from the Graph API and take it as Meta's word at `now`.

    Unknown templates are created (made in WhatsApp Manager, or submitted by us
    with the answer lost); known ones get their status, quality, category and
    components; templates Meta no longer lists are archived. Each run is a
    TemplateSyncRun row; a Graph error is recorded there and raised, while an
    item that fails is recorded there and skipped.
    """
    run = TemplateSyncRun.objects.create(business_account=business_account, started_at=now)
    try:
        items = _client(business_account, client).list_templates(business_account.waba_id, fields=LIST_FIELDS)
    except GraphError as exc:
        run.error, run.finished_at = str(exc), timezone.now()
        run.save(update_fields=["error", "finished_at"])
        raise
    errors = []
    for item in items:
        try:
            with transaction.atomic():
                outcome = sync_item(business_account=business_account, item=item, now=now)
        except Exception as exc:  # one odd item must not hold back the rest of the list
            logger.exception("template sync of %s: item %r failed", business_account, item.get("name"))
            errors.append(f"{item.get('name')!r}: {type(exc).__name__}: {exc}")
            continue
        run.created += outcome.created
        run.changed += outcome.changed
    listed = {meta_id for meta_id in (as_id(item.get("id")) for item in items) if meta_id}
    with transaction.atomic():
        run.changed += sync_absent(business_account=business_account, listed_ids=listed, now=now)
    run.listed, run.ok, run.error, run.finished_at = len(items), not errors, "\n".join(errors), timezone.now()
    run.save()
    return run


# --- purposes and rendering -------------------------------------------------------------


@transaction.atomic
def purpose_chain_set(*, purpose: Purpose, business_account: BusinessAccount, templates: list[Template]) -> None:
    """Replace the account's chain for a purpose with `templates`, tried in that order."""
    if any(t.business_account_id != business_account.pk for t in templates):
        raise ValueError("every template of a chain must belong to the business account")
    PurposeTemplate.objects.filter(purpose=purpose, template__business_account=business_account).delete()
    PurposeTemplate.objects.bulk_create(
        PurposeTemplate(purpose=purpose, template=template, position=position)
        for position, template in enumerate(templates)
    )


def template_render(*, template: Template, params: dict) -> dict:
    """The Graph API `template` object for a send, or TemplateRenderError naming the
    parameter that is missing, extra or of the wrong type. Writes nothing."""
    version = template.current_version
    if version is None:
        raise TemplateRenderError(f"{template} has no content yet")
    return render(
        name=template.name,
        language=template.language,
        components=version.components,
        parameters=version.parameters,
        params=params,
    )


__all__ = [
    "TemplateDefinitionError",
    "TemplateRenderError",
    "TemplateStateError",
    "TemplateSubmitError",
    "purpose_chain_set",
    "purpose_resolve",
    "template_apply_category",
    "template_apply_components",
    "template_apply_quality",
    "template_apply_status",
    "template_adopt_meta_id",
    "template_create_draft",
    "template_render",
    "template_revise",
    "template_submit",
    "templates_sync",
]
