"""Graph API errors, classified by code as in the table of docs/cloud-api.md.

Callers branch on the class (or catch its exception subclass), never on titles
or messages: Meta rewords those freely. The same error object arrives from a
send call, inside a webhook's `errors[]`, or both, so one parser serves all.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from waco.cloud_api.values import as_dict, as_id, as_int, as_str


class ErrorClass(StrEnum):
    RATE = "rate"  # slow down, retry later; 131056 hits only that recipient
    TRANSIENT = "transient"  # retry with backoff and jitter
    LATER = "later"  # per-user marketing limit: not again within 24 h
    WINDOW = "window"  # service window closed: send an approved template instead
    TEMPLATE = "template"  # fix the template or fall back along the purpose chain
    RECIPIENT = "recipient"  # permanent for this message
    REQUEST = "request"  # permanent: our bug, dead-letter with details
    AUTH = "auth"  # pause the number's sending, alert
    INTEGRITY = "integrity"  # stop, alert, do not resend
    UNCLASSIFIED = "unclassified"  # a code the table does not list


# The table of docs/cloud-api.md, one entry per code. 200-299 is a range of permission codes.
ERROR_CODE_CLASSES: dict[int, ErrorClass] = {
    **{code: ErrorClass.RATE for code in (130429, 131056, 4, 80007)},
    **{code: ErrorClass.TRANSIENT for code in (1, 2, 131000, 131016, 133004, 131057, 2494100, 133015)},
    131049: ErrorClass.LATER,
    131047: ErrorClass.WINDOW,
    **{code: ErrorClass.TEMPLATE for code in (132000, 132001, 132005, 132007, 132012, 132015, 132016)},
    **{code: ErrorClass.RECIPIENT for code in (131026, 131050, 131051, 131021, 131030)},
    **{code: ErrorClass.REQUEST for code in (100, 131008, 131009)},
    **{code: ErrorClass.AUTH for code in (190, 0, 10, *range(200, 300))},
    **{code: ErrorClass.INTEGRITY for code in (368, 131031, 130497, 131048)},
}

# Classes where sending the same request again, after a pause, can succeed.
RETRYABLE_CLASSES = frozenset({ErrorClass.RATE, ErrorClass.TRANSIENT})
# "later": Meta counts marketing per user over a day; an earlier retry fails again.
LATER_RETRY_DELAY = timedelta(hours=24)
# The pair limit: only this recipient is too fast, the number itself is fine.
PAIR_RATE_LIMIT_CODE = 131056


def classify(code: Any) -> ErrorClass:
    """The class of a Graph error code (int or digit string); unknown or missing: unclassified."""
    number = as_int(code)
    if number is None:
        return ErrorClass.UNCLASSIFIED
    return ERROR_CODE_CLASSES.get(number, ErrorClass.UNCLASSIFIED)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDetail:
    """One Graph error object: a send response's `error`, or a webhook `errors[]` item."""

    code: int | None = None
    subcode: int | None = None
    title: str | None = None
    message: str | None = None
    type: str | None = None
    details: str | None = None
    fbtrace_id: str | None = None
    href: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def error_class(self) -> ErrorClass:
        return classify(self.code)

    def as_dict(self) -> dict:
        """A JSON-safe summary, for a message's error record or a dead letter."""
        return {
            "code": self.code,
            "subcode": self.subcode,
            "title": self.title,
            "message": self.message,
            "type": self.type,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
            "error_class": str(self.error_class),
        }


def parse_error_detail(obj: Any) -> ErrorDetail:
    """Read `{"error": {...}}`, the inner object, or a webhook errors[] item. Never raises."""
    outer = as_dict(obj)
    inner = outer["error"] if isinstance(outer.get("error"), dict) else outer
    error_data = as_dict(inner.get("error_data"))
    return ErrorDetail(
        code=as_int(inner.get("code")),
        subcode=as_int(inner.get("error_subcode")),
        title=as_str(inner.get("title")) or as_str(inner.get("error_user_title")),
        message=as_str(inner.get("message")),
        type=as_str(inner.get("type")),
        details=as_str(error_data.get("details")),
        fbtrace_id=as_id(inner.get("fbtrace_id")),
        href=as_str(inner.get("href")),
        raw=obj,
    )


class GraphError(Exception):
    """A failed Graph API call. Catch a subclass to act on one class of failure.

    may_have_left: True when the request may have reached Meta and been acted on
    (read timeout, reset after sending, 5xx without an error body). A send that
    fails this way has an unknown outcome: wait for the status webhook (matched
    by biz_opaque_callback_data) instead of resending blindly.
    """

    error_class: ErrorClass = ErrorClass.UNCLASSIFIED

    def __init__(
        self,
        message: str = "",
        *,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        may_have_left: bool = False,
        raw: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.may_have_left = may_have_left
        self.raw = raw

    @property
    def retryable(self) -> bool:
        """The same request may succeed after a pause (rate or transient)."""
        return self.error_class in RETRYABLE_CLASSES

    @property
    def safe_to_resend(self) -> bool:
        """Retryable and known not to have reached Meta: a non-idempotent send may go again."""
        return self.retryable and not self.may_have_left

    @property
    def is_pair_rate_limit(self) -> bool:
        return self.code == PAIR_RATE_LIMIT_CODE

    def as_dict(self) -> dict:
        return {
            "error_class": str(self.error_class),
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "type": self.type,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
            "http_status": self.http_status,
            "may_have_left": self.may_have_left,
        }

    def __str__(self) -> str:
        code = "-" if self.code is None else f"{self.code}/{self.subcode or 0}"
        suffix = f" ({self.details})" if self.details else ""
        return f"[{self.error_class}] {code} {self.message}{suffix}"


class RateLimitError(GraphError):
    error_class = ErrorClass.RATE


class TransientError(GraphError):
    error_class = ErrorClass.TRANSIENT


class RetryLaterError(GraphError):
    error_class = ErrorClass.LATER


class WindowClosedError(GraphError):
    error_class = ErrorClass.WINDOW


class TemplateError(GraphError):
    error_class = ErrorClass.TEMPLATE


class RecipientError(GraphError):
    error_class = ErrorClass.RECIPIENT


class InvalidRequestError(GraphError):
    error_class = ErrorClass.REQUEST


class AuthError(GraphError):
    error_class = ErrorClass.AUTH


class IntegrityViolationError(GraphError):
    error_class = ErrorClass.INTEGRITY


class UnclassifiedError(GraphError):
    error_class = ErrorClass.UNCLASSIFIED


EXCEPTION_BY_CLASS: dict[ErrorClass, type[GraphError]] = {
    ErrorClass.RATE: RateLimitError,
    ErrorClass.TRANSIENT: TransientError,
    ErrorClass.LATER: RetryLaterError,
    ErrorClass.WINDOW: WindowClosedError,
    ErrorClass.TEMPLATE: TemplateError,
    ErrorClass.RECIPIENT: RecipientError,
    ErrorClass.REQUEST: InvalidRequestError,
    ErrorClass.AUTH: AuthError,
    ErrorClass.INTEGRITY: IntegrityViolationError,
    ErrorClass.UNCLASSIFIED: UnclassifiedError,
}


def error_for_class(error_class: ErrorClass, message: str, **kwargs: Any) -> GraphError:
    """An error of a class chosen without a Graph code (5xx, connection failures)."""
    return EXCEPTION_BY_CLASS[error_class](message, **kwargs)


def error_from_detail(
    detail: ErrorDetail, *, http_status: int | None = None, may_have_left: bool = False
) -> GraphError:
    return EXCEPTION_BY_CLASS[detail.error_class](
        detail.message or detail.title or "Graph API error",
        code=detail.code,
        subcode=detail.subcode,
        type=detail.type,
        details=detail.details,
        fbtrace_id=detail.fbtrace_id,
        http_status=http_status,
        may_have_left=may_have_left,
        raw=detail.raw,
    )


def error_from_graph(obj: Any, *, http_status: int | None = None, may_have_left: bool = False) -> GraphError:
    """The typed exception for a Graph error object (any of the three shapes). Never raises."""
    return error_from_detail(parse_error_detail(obj), http_status=http_status, may_have_left=may_have_left)
