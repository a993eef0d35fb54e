"""Campaign operations: create one (checked), change its status (the only way), and, in
campaigns.expansion, turn its audience into recipient rows and preview them."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from campaigns.models import Audience, Campaign, CampaignCause, CampaignStatus
from campaigns.segments import segment_validate
from conversations.intents import campaign_payload, reply_request
from templates_lib.models import Template, TemplateCategory, TemplateStatus
from templates_lib.params import ParamType, TemplateDefinitionError, specs_parse
from waco.channels.models import BusinessAccount, PhoneNumber
from waco.transitions import transition_apply

TRANSITIONS = ("schedule", "start", "pause", "resume", "complete", "cancel")
# A contact's own facts a parameter may take: "name" is the merchant's name for them, else WhatsApp's.
FIELD_SOURCES = {
    "name": lambda row: row["name"] or row["profile_name"],
    "profile_name": lambda row: row["profile_name"],
    "username": lambda row: row["username"],
    "wa_id": lambda row: row["wa_id"] or "",
}
PARAM_SOURCES = ("attribute", "field", "csv", "constant", "intent")
# A quick-reply button's payload is an intent: what the tap asks the dialogue for (a Waco reply id),
# sent with the campaign's id so the thread knows where the reply came from.
BUTTON_INTENTS = ("menu", "cart", "checkout", "agent", "stop")


class CampaignTransitionRefused(Exception):
    """The transition does not fit the campaign's status (or the cause may not ask for it)."""


def campaign_create(
    *,
    business_account: BusinessAccount,
    phone_number: PhoneNumber,
    name: str,
    template: Template,
    params: dict,
    segment: dict | None = None,
    audience: str = Audience.SEGMENT,
    transactional: bool = False,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    quiet_hours: tuple[time, time] = (time(21), time(9)),
    frequency_cap_hours: int = 24,
    created_by=None,
    cause: str | None = None,
) -> Campaign:
    """A draft campaign, or ValidationError naming each field that is wrong. Writes its first history row,
    whose cause is `cause`, else staff for a user's campaign and the system's otherwise."""
    segment = {} if segment is None else segment
    errors: dict[str, list[str]] = {}
    if phone_number.business_account_id != business_account.pk:
        errors.setdefault("phone_number", []).append("The number belongs to another business account.")
    if template_errors := _template_errors(template, business_account=business_account, transactional=transactional):
        errors["template"] = template_errors
    elif params_errors := params_check(params, template=template, audience=audience):
        errors["params"] = params_errors  # read only from a template that can be sent
    if audience not in Audience.values:
        errors.setdefault("audience", []).append(f"Unknown audience {audience!r}.")
    try:
        segment_validate(segment)
    except ValidationError as error:
        errors.update(error.message_dict)
    if starts_at and ends_at and ends_at <= starts_at:
        errors.setdefault("ends_at", []).append("The end must come after the start.")
    if frequency_cap_hours < 1:
        errors.setdefault("frequency_cap_hours", []).append("At least one hour.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            business_account=business_account,
            phone_number=phone_number,
            name=name,
            template=template,
            transactional=transactional,
            params=params,
            audience=audience,
            segment=segment,
            starts_at=starts_at,
            ends_at=ends_at,
            quiet_start=quiet_hours[0],
            quiet_end=quiet_hours[1],
            frequency_cap_hours=frequency_cap_hours,
            created_by=created_by,
        )
        campaign.changes.create(
            transition="",
            from_state="",
            to_state=campaign.status,
            cause=cause or (CampaignCause.STAFF if created_by else CampaignCause.SYSTEM),
            actor=created_by,
        )
    return campaign


def _template_errors(template: Template, *, business_account: BusinessAccount, transactional: bool) -> list[str]:
    if template.business_account_id != business_account.pk:
        return ["The template belongs to another business account."]
    if template.status != TemplateStatus.APPROVED or template.current_version_id is None:
        return [f"The template is {template.status}: a campaign sends only an approved template."]
    if template.category == TemplateCategory.AUTHENTICATION:
        return ["Authentication templates (one-time codes) are not broadcast."]
    if template.category == TemplateCategory.UTILITY and not transactional:
        # Meta recategorises a utility template used for promotion as marketing (and bills it so).
        return ["A utility template may only send a transactional notice: mark the campaign transactional."]
    return []


def params_check(params: object, *, template: Template, audience: str) -> list[str]:
    """What is wrong with `params` for the template's current version: every declared parameter
    needs exactly one source, and no source may name a parameter the template lacks."""
    if not isinstance(params, dict):
        return ["params must be an object: template parameter -> its source."]
    try:
        specs = specs_parse(template.current_version.parameters)
    except TemplateDefinitionError as error:
        return [f"The template's parameters cannot be read: {error}"]
    declared = {spec.key for spec in specs}
    errors = []
    if missing := sorted(declared - set(params)):
        errors.append(f"No source for the template's parameters: {', '.join(missing)}.")
    if extra := sorted(set(params) - declared):
        errors.append(f"The template has no parameters named: {', '.join(extra)}.")
    payloads = {spec.key for spec in specs if spec.type == ParamType.PAYLOAD}
    for key in sorted(set(params) & declared):
        if problem := _source_problem(params[key], audience=audience):
            errors.append(f"{key}: {problem}")
        elif (params[key]["source"] == "intent") != (key in payloads):
            errors.append(f"{key}: a quick-reply button takes an intent, and only a button does.")
    return errors


def _source_problem(source: object, *, audience: str) -> str:
    if not isinstance(source, dict) or source.get("source") not in PARAM_SOURCES:
        return f"a source is an object with source one of {', '.join(PARAM_SOURCES)}."
    kind = source["source"]
    if kind == "attribute" and not (isinstance(source.get("key"), str) and source["key"]):
        return "an attribute source needs the attribute's key."
    if kind == "field" and source.get("key") not in FIELD_SOURCES:
        return f"a field source's key is one of {', '.join(FIELD_SOURCES)}."
    if kind == "csv" and audience != Audience.CSV:
        return "a csv source needs a CSV audience."
    if kind == "csv" and not (isinstance(source.get("column"), str) and source["column"]):
        return "a csv source needs the column's name."
    if kind == "constant" and source.get("value") in (None, ""):
        return "a constant source needs its value."
    if kind == "intent" and (not isinstance(source.get("value"), str) or _intent_unknown(source["value"])):
        return f"an intent is one of Waco's replies ({', '.join(BUTTON_INTENTS)}, or cat:/prod: with an id)."
    if "default" in source and not isinstance(source["default"], str):
        return "a default is text."
    return ""


def _intent_unknown(reply_id: str) -> bool:
    request = reply_request(reply_id)
    return request.name == "unknown" or request.campaign is not None


def params_for(params: dict, row: dict, *, campaign_id: int | None = None) -> dict:
    """One contact's parameter values (row: its name, profile_name, username, wa_id, attributes and,
    for a CSV audience, `csv`: its row's columns).

    A value the contact lacks takes the source's default; with none it is None, which the send
    refuses for that recipient rather than sending an empty placeholder."""
    values = {}
    for key, source in params.items():
        kind = source["source"]
        if kind == "constant":
            value = source["value"]
        elif kind == "attribute":
            value = (row["attributes"] or {}).get(source["key"])
        elif kind == "field":
            value = FIELD_SOURCES[source["key"]](row)
        elif kind == "intent":  # the button's payload: this campaign, then what the tap asks for
            value = campaign_payload(campaign_id, source["value"])
        else:  # csv: the row's column in the uploaded file (campaigns.audience_csv)
            value = (row.get("csv") or {}).get(source["column"].strip().lower())
        values[key] = value if value not in (None, "") else source.get("default")
    return values


def campaign_transition(
    *, campaign: Campaign, name: str, cause: str, actor=None, detail: str = "", now: datetime | None = None
) -> Campaign:
    """Lock the campaign, apply one transition and record it with its cause; the only way a status changes.

    A pause keeps `detail` as its reason. Only people resume a campaign (staff in the admin, or the
    merchant's systems through the API with a campaigns:write key): a safety pause is never lifted by
    the system. CampaignTransitionRefused, with nothing written, when the transition does not fit."""
    if name not in TRANSITIONS:
        raise CampaignTransitionRefused(f"no campaign transition named {name!r}")
    if name == "resume" and cause not in (CampaignCause.STAFF, CampaignCause.API):
        raise CampaignTransitionRefused("only staff or the API resume a campaign")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign.pk)
        source = locked.status
        kwargs = {"reason": detail} if name == "pause" else {}
        try:
            transition_apply(
                locked,
                transition=name,
                history="changes",
                cause=cause,
                detail=detail,
                actor=actor,
                now=now or timezone.now(),
                **kwargs,
            )
        except TransitionNotAllowed as error:
            raise CampaignTransitionRefused(f"a campaign that is {source} cannot {name}") from error
    return locked


__all__ = [
    "CampaignStatus",
    "CampaignTransitionRefused",
    "campaign_create",
    "campaign_transition",
    "params_check",
    "params_for",
]
