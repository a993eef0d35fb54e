"""RFC 9457 problem details: every error of /api/v1/ is `application/problem+json`.

`{"type", "title", "status", "detail", "errors": [{"pointer", "detail"}]}`: field errors carry
JSON pointers (RFC 6901) into the request body, e.g. `/levels/3/sku`.
"""

import math
from http import HTTPStatus

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
# A problem's `type` when it has one of its own; "about:blank" (RFC 9457) when the status says it all.
TYPE_PREFIX = "urn:waco:problem:"


class Problem(Exception):
    """A refusal a view raises: `raise Problem(422, "Refused", detail=reason)`."""

    def __init__(self, status: int, title: str, detail: str = "", errors=None, type_suffix: str = "", headers=None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.type_suffix = type_suffix
        self.headers = headers or {}

    def body(self) -> dict:
        body = {
            "type": f"{TYPE_PREFIX}{self.type_suffix}" if self.type_suffix else "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        return body


def problem_response(problem: Problem) -> Response:
    return Response(problem.body(), status=problem.status, headers=problem.headers, content_type=PROBLEM_CONTENT_TYPE)


def pointer_errors(detail, pointer: str = "") -> list[dict]:
    """DRF's nested validation errors as a flat list of {pointer, detail}, in the body's order."""
    if isinstance(detail, dict):
        errors = []
        for field, sub in detail.items():
            # Errors about the object as a whole point at the object itself.
            is_whole = field == api_settings.NON_FIELD_ERRORS_KEY
            errors += pointer_errors(sub, pointer if is_whole else f"{pointer}/{_escape(str(field))}")
        return errors
    if isinstance(detail, list):
        errors = []
        for index, sub in enumerate(detail):
            if isinstance(sub, (dict, list)):
                errors += pointer_errors(sub, f"{pointer}/{index}")
            else:
                errors.append({"pointer": pointer, "detail": str(sub)})
        return errors
    return [{"pointer": pointer, "detail": str(detail)}]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_from_exception(exc) -> Problem | None:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, (Http404, ObjectDoesNotExist)):  # `.get()` through visible() found nothing
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.ValidationError):
        return Problem(
            422, "Validation failed", detail="The request body has errors.", errors=pointer_errors(exc.detail)
        )
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return Problem(exc.status_code, _title(exc.status_code), detail=str(detail), headers=headers)


def problem_exception_handler(exc, context):
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's errors and Problem as problem details; others stay 500."""
    problem = problem_from_exception(exc)
    if problem is None:
        return None
    set_rollback()
    return problem_response(problem)
