"""Idempotency-Key on POST, PUT and PATCH: a retry gets the first answer, never a second effect.

The key is claimed by inserting a row in its own transaction before the work; a duplicate that
arrives while the first is in flight finds the row unanswered and gets 409. The answer (status
below 500: a server error may be retried for real) is stored and replayed for 24 hours. The
stored body is encrypted (IdempotentRequest.body), under the key ring of every stored secret:
an answer may carry a secret shown once, such as a webhook endpoint's `whsec_` secret.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from waco.api.models import IdempotentRequest
from waco.api.problems import Problem

HEADER = "Idempotency-Key"
METHODS = frozenset({"POST", "PUT", "PATCH"})
KEEP = timedelta(hours=24)
# A claim unanswered this long belongs to a process that died: a retry may take it over.
ABANDONED_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


class Replay(Exception):
    """Raised by ApiView before the handler runs: answer with the stored response instead."""

    def __init__(self, response: HttpResponse):
        super().__init__("idempotent replay")
        self.response = response


def fingerprint(method: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\n" + body).hexdigest()


def idempotency_key_check(value: str) -> str:
    if not value or len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise Problem(400, "Invalid Idempotency-Key", detail=f"Use 1 to {MAX_KEY_LENGTH} printable characters.")
    return value


def idempotency_claim(idempotency_key: str, path: str, request_fingerprint: str) -> IdempotentRequest:
    """Claim the key for this request; Replay with the first answer, or Problem 409 / 422."""
    for _ in range(3):  # a claim deleted or taken over between our two looks: look again
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    idempotency_key=idempotency_key, path=path, fingerprint=request_fingerprint
                )
        except IntegrityError:
            pass
        row = IdempotentRequest.objects.filter(idempotency_key=idempotency_key, path=path).first()
        if row is None:
            continue
        now = timezone.now()
        if row.created_at < now - KEEP or (row.status is None and row.created_at < now - ABANDONED_AFTER):
            IdempotentRequest.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.fingerprint != request_fingerprint:
            raise Problem(
                422,
                "Idempotency-Key reused",
                detail="This Idempotency-Key was used on this path with another request.",
                type_suffix="idempotency-key-reused",
            )
        if row.status is None:
            raise Problem(
                409,
                "Request in progress",
                detail="A request with this Idempotency-Key is still in progress; retry later.",
                type_suffix="idempotency-in-progress",
                headers={"Retry-After": "1"},
            )
        raise Replay(stored_response(row))
    raise Problem(409, "Request in progress", detail="This Idempotency-Key is changing hands; retry later.")


def stored_response(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(row.body, status=row.status, content_type=row.content_type or None)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_answer(claim: IdempotentRequest, response: HttpResponse) -> None:
    """Store the answer for replays; a server error frees the key for a real retry."""
    if response.status_code >= 500:
        idempotency_release(claim)
        return
    claim.status = response.status_code
    claim.content_type = response.get("Content-Type", "")
    claim.body = response.content.decode("utf-8")
    claim.save(update_fields=["status", "content_type", "body"])


def idempotency_release(claim: IdempotentRequest) -> None:
    IdempotentRequest.objects.filter(pk=claim.pk, status__isnull=True).delete()


def idempotency_purge(now=None) -> int:
    """Delete the records past their 24 hours; returns how many."""
    now = now or timezone.now()
    return IdempotentRequest.objects.filter(created_at__lt=now - KEEP).delete()[0]
