"""Graph nodes other than sends: who may call (the token), and reads of numbers and accounts."""

from django.utils.crypto import constant_time_compare

from waco.sandbox.config import Config
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.models import BusinessAccount, PhoneNumber


def missing_node(node_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported request. Object with ID '{node_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
    )


def account_authorize(account: BusinessAccount, token: str | None) -> None:
    if not token or not constant_time_compare(token, account.access_token):
        raise GraphError(190)


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
