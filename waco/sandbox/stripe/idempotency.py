"""Idempotency keys with Stripe's semantics.

The first response to a key (success or error, once the endpoint has begun
executing) is saved and replayed to every retry with the same endpoint and
parameters. The same key with other parameters is an idempotency_error.
Keys are kept 24 hours; after that the key starts afresh. A request racing
another with the same key gets a 409, which stripe-python retries.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from waco.sandbox.models import StripeIdempotencyKey
from waco.sandbox.stripe.errors import StripeApiError

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict
    replayed: bool = False


def _params_hash(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _execute(operation: Callable[[], dict]) -> ApiResponse:
    """Run the endpoint; an error after validation becomes the (saved) response."""
    try:
        with transaction.atomic():
            return ApiResponse(200, operation())
    except StripeApiError as exc:
        if not exc.stored:
            raise
        return ApiResponse(exc.http_status, exc.body())


def idempotent_call(*, key: str | None, endpoint: str, params: dict, operation: Callable[[], dict]) -> ApiResponse:
    """Run `operation` once per key; replay its saved response to retries."""
    if not key:
        return _execute(operation)
    if len(key) > MAX_KEY_LENGTH:
        raise StripeApiError(f"Idempotency keys must be at most {MAX_KEY_LENGTH} characters long.", stored=False)
    params_hash = _params_hash(params)
    with transaction.atomic():
        record = StripeIdempotencyKey.objects.select_for_update().filter(key=key).first()
        if record is not None and record.created_at < timezone.now() - KEY_TTL:
            record.delete()
            record = None
        if record is not None:
            if record.endpoint != endpoint or record.params_hash != params_hash:
                raise StripeApiError(
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.",
                    type="idempotency_error",
                    stored=False,
                )
            return ApiResponse(record.status_code, json.loads(record.response_body), replayed=True)
        response = _execute(operation)
        try:
            with transaction.atomic():
                StripeIdempotencyKey.objects.create(
                    key=key,
                    endpoint=endpoint,
                    params_hash=params_hash,
                    status_code=response.status,
                    response_body=json.dumps(response.body),
                    created_at=timezone.now(),
                )
        except IntegrityError:
            # Another request with this key committed first: undo this one's work.
            raise StripeApiError(
                "There is currently another in-progress request using this idempotent key. Please try again later.",
                type="idempotency_error",
                http_status=409,
                stored=False,
            ) from None
    return response
