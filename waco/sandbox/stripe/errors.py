"""Errors answered in Stripe's shape: {"error": {"type", "code"?, "message", "param"?}}.

stripe-python picks its exception class from the HTTP status and `type`
(400/404 invalid_request_error, 400 idempotency_error, 401, 402 card_error,
429, 5xx), so both must be right for Waco's error mapping to be tested.
"""


class StripeApiError(Exception):
    """An API error. `stored` is False for parameter errors: Stripe saves an idempotent
    result only once the endpoint has begun executing, so those may be retried with the key."""

    def __init__(
        self,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        http_status: int = 400,
        stored: bool = True,
    ):
        super().__init__(message)
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.http_status = http_status
        self.stored = stored

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid_param(param: str, message: str, *, code: str = "parameter_invalid_empty") -> StripeApiError:
    return StripeApiError(message, code=code, param=param, stored=False)


def missing_param(param: str) -> StripeApiError:
    return StripeApiError(f"Missing required param: {param}.", code="parameter_missing", param=param, stored=False)


def resource_missing(object_name: str, object_id: str, *, param: str = "id") -> StripeApiError:
    return StripeApiError(
        f"No such {object_name}: '{object_id}'", code="resource_missing", param=param, http_status=404
    )


def unrecognized_url(method: str, path: str) -> StripeApiError:
    return StripeApiError(
        f"Unrecognized request URL ({method}: {path}). This sandbox implements only the part of "
        "Stripe's API that Waco uses.",
        http_status=404,
        stored=False,
    )
