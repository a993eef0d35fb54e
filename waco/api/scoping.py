"""What a key may see: the business accounts it is limited to, or all of them.

Objects outside a key's accounts do not exist for it: views fetch through `visible()`, so
such an object answers 404, never a 403 that would confirm it exists.
"""

from waco.api.problems import Problem
from waco.channels.models import BusinessAccount


def visible(queryset, request, account_field: str = "business_account"):
    """`queryset` limited to the key's accounts; `account_field` leads to the owning BusinessAccount."""
    ids = request.auth.account_ids()
    if ids is None:
        return queryset
    return queryset.filter(**{f"{account_field}__in": ids})


def account_for_write(request, waba_id: str | None) -> BusinessAccount:
    """The account a write goes to: the one named by WABA id, or the only one the key can see."""
    accounts = visible(BusinessAccount.objects.order_by("pk"), request, account_field="pk")
    if waba_id:
        account = accounts.filter(waba_id=waba_id).first()
        if account is None:
            raise Problem(404, "Not Found", detail=f"No business account {waba_id}.", type_suffix="unknown-account")
        return account
    candidates = list(accounts[:2])
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise Problem(422, "No business account", detail="The key can see no business account.")
    raise Problem(
        422,
        "Account required",
        detail="The key can see several business accounts: name one with `account` (its WABA id).",
        type_suffix="account-required",
        errors=[{"pointer": "/account", "detail": "Required when the key can see several business accounts."}],
    )
