"""Reads: finding templates named by Meta, and resolving a purpose to a template."""

from django.db.models import QuerySet

from templates_lib.models import Purpose, PurposeTemplate, Template, TemplateStatus
from waco.channels.models import BusinessAccount


def language_normalize(language: str | None) -> str:
    """Meta's codes use an underscore (en_US); some payloads carry a hyphen (en-US)."""
    return (language or "").strip().replace("-", "_")


def template_for_meta(
    *, waba_id: str | None, meta_template_id: str | None, name: str | None, language: str | None
) -> Template | None:
    """The template a Meta event or list item is about: by Meta's id, else by name and language.

    Found by name, a template that already holds another Meta id is not this one
    (Meta re-created the name, or the event is about a copy we replaced): None.
    """
    templates = Template.objects.select_related("business_account")
    if waba_id:
        templates = templates.filter(business_account__waba_id=waba_id)
    if meta_template_id:
        found = templates.filter(meta_template_id=meta_template_id).first()
        if found is not None:
            return found
    if not (waba_id and name and language):
        return None
    found = templates.filter(name=name, language=language_normalize(language)).first()
    if found is None or (found.meta_template_id and meta_template_id and found.meta_template_id != meta_template_id):
        return None
    return found


def purpose_chain(*, business_account: BusinessAccount, purpose_key: str) -> list[Template]:
    """The account's templates for a purpose, in chain order, whatever their status."""
    links = (
        PurposeTemplate.objects.filter(purpose__key=purpose_key, template__business_account=business_account)
        .select_related("template__current_version")
        .order_by("position", "id")
    )
    return [link.template for link in links]


def _usable(template: Template, purpose: Purpose) -> bool:
    return template.is_sendable and template.category == purpose.category


def purpose_resolve(
    *,
    business_account: BusinessAccount,
    purpose_key: str,
    language: str | None = None,
    exclude_names: tuple[str, ...] | list[str] = (),
) -> Template | None:
    """The first approved template of the purpose's chain, or None.

    Paused, rejected, disabled and unsubmitted templates are skipped, as are those
    whose category is not the purpose's (Meta recategorised them) and those named
    in exclude_names (Meta refused them just now). With a language, a template in
    that language wins, then one in the same base language (en for en_GB), then
    the rest of the chain in order.
    """
    purpose = Purpose.objects.filter(key=purpose_key).first()
    if purpose is None:
        return None
    chain = [
        template
        for template in purpose_chain(business_account=business_account, purpose_key=purpose_key)
        if _usable(template, purpose) and template.name not in exclude_names
    ]
    if not chain:
        return None
    if not language:
        return chain[0]
    wanted = language_normalize(language)
    base = wanted.split("_")[0]

    def rank(template: Template) -> int:
        if template.language == wanted:
            return 0
        return 1 if template.language.split("_")[0] == base else 2

    return min(chain, key=rank)  # min keeps the first of equal rank: chain order


def purposes_unserved(*, business_account: BusinessAccount, purpose_keys=None) -> list[str]:
    """Purposes with a chain on this account but no usable template in it."""
    purposes = Purpose.objects.filter(links__template__business_account=business_account).distinct()
    if purpose_keys is not None:
        purposes = purposes.filter(key__in=list(purpose_keys))
    return [
        purpose.key
        for purpose in purposes.order_by("key")
        if purpose_resolve(business_account=business_account, purpose_key=purpose.key) is None
    ]


def templates_sendable(*, business_account: BusinessAccount) -> QuerySet[Template]:
    return Template.objects.filter(
        business_account=business_account, status=TemplateStatus.APPROVED, current_version__isnull=False
    )
