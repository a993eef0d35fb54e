"""Token health: each business account's token read back through Meta's debug_token, on a schedule.

A token that stopped working pauses its numbers as a 190 on a send does (AUTH_PAUSE_PREFIX,
so a fixed token resumes them); one missing a permission Waco needs, or expiring within
EXPIRY_WARNING, raises an alert before customers notice. Each problem has its own alert kind,
so the check resolves exactly those that no longer hold. Needs WACO_META_APP_ID and an app
secret: debug_token is asked with the app's access token.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve
from waco.channels.models import BusinessAccount
from waco.channels.services import AUTH_PAUSE_PREFIX, phone_number_pause_sending, phone_number_resume_sending
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import ErrorClass, GraphError
from waco.cloud_api.values import as_dict, as_int, as_list, as_str

# Sending needs the first, templates and number reads the second.
NEEDED_SCOPES = ("whatsapp_business_messaging", "whatsapp_business_management")
EXPIRY_WARNING = timedelta(days=14)

INVALID = "token_invalid"
MISSING_SCOPES = "token_missing_scopes"
EXPIRING = "token_expiring"
CHECK_FAILED = "token_check_failed"
TOKEN_ALERT_KINDS = (INVALID, MISSING_SCOPES, EXPIRING, CHECK_FAILED)


@dataclass(frozen=True)
class TokenProblem:
    kind: str  # one of TOKEN_ALERT_KINDS, also the alert's kind
    severity: str
    detail: str


def app_access_token() -> str | None:
    """The app's access token, app id and first (signing) secret joined by "|"; None without an app."""
    secrets = [s for s in settings.WACO_META_APP_SECRETS if s]
    if not settings.WACO_META_APP_ID or not secrets:
        return None
    return f"{settings.WACO_META_APP_ID}|{secrets[0]}"


def _problem(data: dict, *, now: datetime) -> TokenProblem | None:
    """The worst thing Meta's answer says about the token, or None."""
    if data.get("is_valid") is not True:
        reason = as_str(as_dict(data.get("error")).get("message")) or "no reason given"
        return TokenProblem(INVALID, AlertSeverity.CRITICAL, f"Meta says the token is not valid: {reason}")
    scopes = as_list(data.get("scopes"))
    missing = [scope for scope in NEEDED_SCOPES if scope not in scopes]
    if missing:
        return TokenProblem(
            MISSING_SCOPES, AlertSeverity.CRITICAL, f"The token lacks the permission(s): {', '.join(missing)}"
        )
    expires_at = as_int(data.get("expires_at")) or 0  # 0: never
    if expires_at:
        expiry = datetime.fromtimestamp(expires_at, tz=UTC)
        if expiry - now <= EXPIRY_WARNING:
            return TokenProblem(
                EXPIRING, AlertSeverity.WARNING, f"The token expires on {expiry:%Y-%m-%d %H:%M} UTC: replace it."
            )
    return None


def _check_failed(error: GraphError) -> TokenProblem:
    if error.error_class == ErrorClass.AUTH:
        # An unreadable input token is answered in `data`: a refusal is about the app's own token.
        return TokenProblem(
            CHECK_FAILED,
            AlertSeverity.CRITICAL,
            "Meta refused the app access token (WACO_META_APP_ID and the first WACO_META_APP_SECRET), so "
            f"the token cannot be checked: {error}",
        )
    return TokenProblem(CHECK_FAILED, AlertSeverity.WARNING, f"The token could not be checked: {error}")


def _numbers_pause(account: BusinessAccount, problem: TokenProblem) -> None:
    for number in account.phone_numbers.all():
        phone_number_pause_sending(phone_number=number, reason=f"{AUTH_PAUSE_PREFIX} 190: {problem.detail}")


def _numbers_resume(account: BusinessAccount) -> None:
    """Numbers an auth error paused send again; those paused for another reason stay paused."""
    paused = account.phone_numbers.filter(sending_paused=True, sending_paused_reason__startswith=AUTH_PAUSE_PREFIX)
    for number in paused:
        phone_number_resume_sending(phone_number=number)


def token_check(account: BusinessAccount, *, now: datetime) -> TokenProblem | None:
    """Ask Meta about the account's token and act on the answer: the problem found, or None."""
    app_token = app_access_token()
    if app_token is None:
        return None
    subject = str(account)
    try:
        data = GraphClient(account.access_token).debug_token(account.access_token, app_access_token=app_token)
    except GraphError as exc:
        # Not a pass: what the last check found stays open, and staff learn the check is blind.
        problem = _check_failed(exc)
        alert_raise(kind=problem.kind, subject=subject, detail=problem.detail, severity=problem.severity)
        return problem
    problem = _problem(data, now=now)
    for kind in TOKEN_ALERT_KINDS:
        if problem is None or kind != problem.kind:
            alert_resolve(kind=kind, subject=subject)
    if problem is not None:
        alert_raise(kind=problem.kind, subject=subject, detail=problem.detail, severity=problem.severity)
    if problem is not None and problem.kind == INVALID:
        _numbers_pause(account, problem)
    elif problem is None or problem.kind == EXPIRING:  # the token works
        _numbers_resume(account)
    return problem


def tokens_check(*, now: datetime) -> dict[str, TokenProblem | None]:
    """Every account's token, by WABA id; nothing at all when no app is configured."""
    if app_access_token() is None:
        return {}
    return {account.waba_id: token_check(account, now=now) for account in BusinessAccount.objects.order_by("pk")}
