"""GET and POST /sandbox/config: the sandbox's behaviour and faults (Meta's and Stripe's), as JSON.

Meta and Stripe have no such endpoint: errors are {"error": "<message>"} with 400.
"""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from waco.sandbox.config import ConfigError, config_get, config_update


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@csrf_exempt
def config_view(request):
    """GET the effective config; POST changes (top-level keys replace; "reset": true first)."""
    if request.method == "GET":
        return JsonResponse(config_get().public())
    if request.method != "POST":
        return _bad_request("use GET or POST")
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        return _bad_request("the body is not valid JSON")
    if not isinstance(payload, dict):
        return _bad_request("the body must be a JSON object")
    reset = payload.pop("reset", False)
    try:
        config = config_update(changes=payload, reset=bool(reset))
    except ConfigError as exc:
        return _bad_request(str(exc))
    return JsonResponse(config.public())
