"""Graph nodes other than sends: who may call (the token), reads of numbers and accounts,
and debug_token."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from waco.sandbox.config import Config
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.models import App, BusinessAccount, PhoneNumber

# The app's id when Waco configures none (its token check is then off anyway).
FALLBACK_APP_ID = "100000000000042"


def missing_node(node_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported request. Object with ID '{node_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
    )


def _token_expired(account: BusinessAccount, now: datetime) -> bool:
    return account.token_expires_at is not None and account.token_expires_at <= now


def account_authorize(account: BusinessAccount, token: str | None) -> None:
    if not token or not constant_time_compare(token, account.access_token):
        raise GraphError(190)
    # A token Meta invalidated or that ran out is refused everywhere, as debug_token says.
    if not account.token_valid or _token_expired(account, timezone.now()):
        raise GraphError(190, "Error validating access token: the session is no longer valid.")


def number_get(node_id: str, token: str | None) -> PhoneNumber:
    number = PhoneNumber.objects.select_related("account").filter(phone_number_id=node_id).first()
    if number is None:
        raise missing_node(node_id)
    account_authorize(number.account, token)
    return number


def account_get(node_id: str, token: str | None) -> BusinessAccount:
    account = BusinessAccount.objects.filter(waba_id=node_id).first()
    if account is None:
        raise missing_node(node_id)
    account_authorize(account, token)
    return account


def catalog_account_get(catalog_id: str, token: str | None) -> BusinessAccount:
    account = BusinessAccount.objects.filter(catalog_id=catalog_id).exclude(catalog_id="").first()
    if account is None:
        raise missing_node(catalog_id)
    account_authorize(account, token)
    return account


# --- phone number and account reads ------------------------------------------------


def _throughput(number: PhoneNumber, health: dict) -> dict:
    return {"level": "HIGH" if health["messages_per_second"] >= 1000 else "STANDARD"}


PHONE_FIELDS = {
    "id": lambda n, h: n.phone_number_id,
    "display_phone_number": lambda n, h: h.get("display_phone_number", n.display_phone_number),
    "verified_name": lambda n, h: h.get("verified_name", n.verified_name),
    "quality_rating": lambda n, h: h["quality_rating"],
    "messaging_limit_tier": lambda n, h: h["messaging_limit_tier"],
    "throughput": _throughput,
    "name_status": lambda n, h: h["name_status"],
    "code_verification_status": lambda n, h: "VERIFIED",
    "platform_type": lambda n, h: "CLOUD_API",
    "status": lambda n, h: "CONNECTED",
}
DEFAULT_PHONE_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "id",
)
ACCOUNT_FIELDS = {
    "id": lambda a: a.waba_id,
    "name": lambda a: f"Sandbox business {a.waba_id}",
    "currency": lambda a: "USD",
    "timezone_id": lambda a: "1",
    "message_template_namespace": lambda a: f"sandbox_{a.waba_id}",
}


def _fields(requested: str, known, default, node_type: str) -> list[str]:
    fields = [f.strip() for f in requested.split(",") if f.strip()] or list(default)
    for field in fields:
        if field not in known:
            raise GraphError(100, f"Tried accessing nonexisting field ({field}) on node type ({node_type})")
    return fields if "id" in fields else [*fields, "id"]


def phone_number_read(*, number: PhoneNumber, fields: str, config: Config) -> dict:
    """GET /{phone-number-id}?fields=...; health values come from config numbers.<id>."""
    health = config.number(number.phone_number_id)
    names = _fields(fields, PHONE_FIELDS, DEFAULT_PHONE_FIELDS, "WhatsAppBusinessPhoneNumber")
    return {name: PHONE_FIELDS[name](number, health) for name in names}


def account_read(*, account: BusinessAccount, fields: str) -> dict:
    names = _fields(fields, ACCOUNT_FIELDS, ("id", "name"), "WhatsAppBusinessAccount")
    return {name: ACCOUNT_FIELDS[name](account) for name in names}


def account_numbers(*, account: BusinessAccount, fields: str, config: Config) -> dict:
    numbers = account.numbers.order_by("id")
    return {"data": [phone_number_read(number=n, fields=fields, config=config) for n in numbers]}


# --- debug_token -----------------------------------------------------------------------


def app_current() -> App:
    """The app tokens belong to: the row a test wrote, else the one Waco is configured with."""
    app = App.objects.order_by("id").first()
    if app is not None:
        return app
    secrets = settings.WACO_META_APP_SECRETS
    return App(app_id=settings.WACO_META_APP_ID or FALLBACK_APP_ID, app_secret=secrets[0] if secrets else "")


def _app_authorize(access_token: str | None) -> App:
    """Only the app's own access token, "<app id>|<app secret>", may debug its tokens."""
    app = app_current()
    app_id, _, secret = (access_token or "").partition("|")
    if not (app.app_secret and app_id == app.app_id and constant_time_compare(secret, app.app_secret)):
        raise GraphError(190, "Invalid OAuth access token signature.")
    return app


def _epoch(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


def token_debug(*, input_token: str, access_token: str | None, now: datetime) -> dict:
    """GET /debug_token?input_token=...: what Meta knows of a token, asked with the app's token."""
    app = _app_authorize(access_token)
    if not input_token:
        raise GraphError(100, "The parameter input_token is required.")
    account = BusinessAccount.objects.filter(access_token=input_token).first()
    if account is None:
        # An answer, not an error: Meta says in `data` that it cannot read the token.
        error = {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}
        return {"data": {"error": error, "is_valid": False, "scopes": []}}
    scopes = list(account.token_scopes)
    data = {
        "app_id": app.app_id,
        "type": "SYSTEM_USER",
        "application": app.name,
        "data_access_expires_at": 0,
        "expires_at": _epoch(account.token_expires_at),
        "is_valid": account.token_valid and not _token_expired(account, now),
        "scopes": scopes,
        "granular_scopes": [{"scope": scope, "target_ids": [account.waba_id]} for scope in scopes],
    }
    if not account.token_valid:
        data["error"] = {"code": 190, "subcode": 460, "message": "Error validating access token: invalidated."}
    elif _token_expired(account, now):
        data["error"] = {"code": 190, "subcode": 463, "message": "Error validating access token: expired."}
    return {"data": data}
