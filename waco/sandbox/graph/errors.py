"""Graph API errors in Meta's exact shape, synchronous or inside a failed status."""

import secrets
from dataclasses import dataclass

ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


@dataclass(frozen=True)
class ErrorSpec:
    http_status: int
    title: str
    details: str


# HTTP statuses as Meta's error-code reference lists them: most are 400,
# auth is 401, a missing template is 404, server trouble 5xx.
ERRORS = {
    1: ErrorSpec(400, "API Unknown", "Invalid request or possible server error."),
    2: ErrorSpec(503, "API Service", "Temporary due to downtime or due to being overloaded."),
    4: ErrorSpec(400, "API Too Many Calls", "The app has reached its API call rate limit."),
    10: ErrorSpec(403, "Permission Denied", "Permission is either not granted or has been removed."),
    100: ErrorSpec(400, "Invalid parameter", "The request included an unsupported or misspelled parameter."),
    190: ErrorSpec(
        401,
        "Invalid OAuth access token - Cannot parse access token",
        "The access token is missing, malformed or expired.",
    ),
    368: ErrorSpec(403, "Temporarily blocked for policies violations", "The account is restricted."),
    130429: ErrorSpec(
        400,
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time",
    ),
    130472: ErrorSpec(
        400,
        "User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment",
    ),
    131000: ErrorSpec(500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: ErrorSpec(403, "Access denied", "Permission is either not granted or has been removed."),
    131008: ErrorSpec(400, "Required parameter is missing", "The request is missing a required parameter."),
    131009: ErrorSpec(400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ErrorSpec(500, "Service unavailable", "A service is temporarily unavailable."),
    131021: ErrorSpec(400, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: ErrorSpec(400, "Message undeliverable", "Unable to deliver message."),
    131030: ErrorSpec(400, "Recipient phone number not in allowed list", "Recipient phone number not in allowed list."),
    131031: ErrorSpec(403, "Account has been locked", "The business account has been locked."),
    131047: ErrorSpec(
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131048: ErrorSpec(400, "Spam rate limit hit", "Message failed to send because of restrictions on this number."),
    131049: ErrorSpec(
        400,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: ErrorSpec(
        400,
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business",
        "The user has stopped marketing messages from this business.",
    ),
    131051: ErrorSpec(400, "Unsupported message type", "Unsupported message type."),
    131052: ErrorSpec(400, "Media download error", "Unable to download the media sent by the user."),
    131053: ErrorSpec(400, "Media upload error", "Unable to upload the media used in the message."),
    # The Marketing Messages API's answer to a template of another category (as partners report it).
    131055: ErrorSpec(400, "Method not allowed", "The method is not allowed for this message."),
    131056: ErrorSpec(
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    131057: ErrorSpec(500, "Account in maintenance mode", "Business account is in maintenance mode."),
    132000: ErrorSpec(
        400,
        "Number of parameters does not match the expected number of params",
        "The number of parameters does not match the template.",
    ),
    132001: ErrorSpec(
        404,
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or has not been approved.",
    ),
    132005: ErrorSpec(400, "Translated text too long", "Translated text is too long."),
    132007: ErrorSpec(400, "Template Format Character Policy Violated", "Template content violates policy."),
    132012: ErrorSpec(
        400,
        "Parameter format does not match format in the created template",
        "Variable parameter values formatted incorrectly.",
    ),
    132015: ErrorSpec(400, "Template is Paused", "Template is paused due to low quality."),
    132016: ErrorSpec(400, "Template is Disabled", "Template has been permanently disabled."),
    133004: ErrorSpec(503, "Server temporarily unavailable", "Server is temporarily unavailable."),
}


def error_spec(code: int) -> ErrorSpec:
    """The catalogue entry, or a generic one so any configured code can be injected."""
    return ERRORS.get(code) or ErrorSpec(400, f"Error {code}", f"Simulated error {code}.")


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


class GraphError(Exception):
    """Raised anywhere in the Graph handlers; the view answers it in Meta's shape."""

    def __init__(self, code: int, details: str | None = None, *, http_status: int | None = None):
        spec = error_spec(code)
        self.code = code
        self.title = spec.title
        self.details = details or spec.details
        self.http_status = http_status or spec.http_status
        super().__init__(f"{code}: {self.details}")

    def body(self) -> dict:
        # Auth errors carry no "(#code)" prefix in Meta's messages.
        message = self.title if self.code == 190 else f"(#{self.code}) {self.title}"
        return {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                "fbtrace_id": fbtrace_id(),
            }
        }


def webhook_error(code: int, details: str | None = None) -> dict:
    """An entry of a failed status's errors[], as in the failed-status fixtures."""
    spec = error_spec(code)
    return {
        "code": code,
        "title": spec.title,
        "message": spec.title,
        "error_data": {"details": details or spec.details},
        "href": ERROR_CODES_URL,
    }
