"""Meta's vocabulary for templates, in our terms. Pure code: no database, no HTTP."""

from templates_lib.models import TemplateCategory, TemplateQuality, TemplateStatus

# Status words of the webhook's `event` and of the list's `status`. Words not here
# (FLAGGED, LOCKED, UNARCHIVED, LIMIT_EXCEEDED, ...) change no status: the
# handler asks for a sync instead, and Meta's list then says where the template stands.
META_STATUSES = {
    "PENDING": TemplateStatus.SUBMITTED,
    "IN_APPEAL": TemplateStatus.SUBMITTED,
    "APPROVED": TemplateStatus.APPROVED,
    "REINSTATED": TemplateStatus.APPROVED,  # an appeal or a quality review ended well
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "ARCHIVED": TemplateStatus.ARCHIVED,
    "PENDING_DELETION": TemplateStatus.ARCHIVED,
    "DELETED": TemplateStatus.ARCHIVED,
}

# Meta sends "NONE" as the reason of an approval.
NO_REASON = {"", "NONE"}

# What we ask the list for; Meta answers an unknown field with an error, so only documented ones.
LIST_FIELDS = "id,name,language,status,category,components,rejected_reason,quality_score"


def status_from_meta(word: str | None) -> TemplateStatus | None:
    return META_STATUSES.get((word or "").strip().upper())


def category_from_meta(word: str | None) -> TemplateCategory | None:
    word = (word or "").strip().upper()
    return TemplateCategory(word) if word in TemplateCategory.values else None


def quality_from_meta(word: str | None) -> TemplateQuality | None:
    word = (word or "").strip().upper()
    return TemplateQuality(word) if word in TemplateQuality.values else None


def reason_text(reason: str | None, detail: str | None = None) -> str:
    """One line for staff: Meta's reason code, and its explanation when it sent one."""
    parts = [part for part in ((reason or "").strip(), (detail or "").strip()) if part and part not in NO_REASON]
    return ": ".join(parts)


def content_signature(components: list) -> tuple:
    """What a customer sees of the components: types, formats, texts and buttons.

    Examples and other review-only fields are left out, so the same content read
    from a webhook, from the list or from our own submit compares equal.
    """
    signature = []
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        buttons = tuple(
            (
                str(button.get("type", "")).upper(),
                button.get("text"),
                button.get("url"),
                button.get("phone_number"),
            )
            for button in component.get("buttons") or []
            if isinstance(button, dict)
        )
        signature.append(
            (
                str(component.get("type", "")).upper(),
                str(component.get("format", "")).upper() if component.get("format") else "",
                component.get("text"),
                buttons,
            )
        )
    return tuple(signature)


def components_with_text(
    current: list, *, title: str | None, body: str | None, footer: str | None, buttons: list[dict]
) -> list:
    """The components a components-update webhook describes, over the current ones.

    The webhook carries texts only: a media header it cannot describe is kept,
    and so is the body when it sends none. Footer and buttons it omits are gone.
    """
    current = [c for c in current if isinstance(c, dict)] if isinstance(current, list) else []
    by_type = {str(c.get("type", "")).upper(): c for c in current}
    components = []
    header = by_type.get("HEADER")
    if title:
        components.append({"type": "HEADER", "format": "TEXT", "text": title})
    elif header is not None and str(header.get("format", "TEXT")).upper() != "TEXT":
        components.append(header)
    if body:
        components.append({"type": "BODY", "text": body})
    elif "BODY" in by_type:
        components.append(by_type["BODY"])
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components
