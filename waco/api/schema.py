"""The OpenAPI description of /api/v1/ (drf-spectacular): the Bearer key, scopes and problems.

Every ApiView operation lists the problems any endpoint may answer (401, 403, 404, 409, 422,
429, and 400/413 for writes) and names, in its description, the scope it needs.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from waco.api.problems import PROBLEM_CONTENT_TYPE

PROBLEMS_EVERY_OPERATION = {
    "401": "No key, or a wrong, expired or revoked one (`WWW-Authenticate: Bearer`).",
    "403": "The key lacks the operation's scope.",
    "404": "Not found, or outside the business accounts the key may see.",
    "409": "A request with the same Idempotency-Key is still in progress.",
    "422": "The request is refused: field errors as JSON pointers, or the reason.",
    "429": "Too many requests for this key: wait `Retry-After` seconds.",
}
PROBLEMS_WRITE_OPERATION = {
    "400": "The body is not valid JSON, or the Idempotency-Key header is malformed.",
    "413": "The body is larger than the API admits.",
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="JSON pointer (RFC 6901) into the request body.")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="`about:blank`, or `urn:waco:problem:<name>` for Waco's own.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False)

    class Meta:
        ref_name = "Problem"


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "waco.api.authentication.BearerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made in the admin or by `manage.py apikey_create`: `Authorization: Bearer <key>`.",
        }


class ApiAutoSchema(AutoSchema):
    def _is_api_view(self) -> bool:
        return hasattr(self.view, "required_scope")

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None or not self._is_api_view():
            return operation
        scope = self.view.required_scope(self.method)
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\nScope: `{scope}`".strip()
        return operation

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self._is_api_view():
            return responses
        problems = dict(PROBLEMS_EVERY_OPERATION)
        if self.method not in SAFE_METHODS:
            problems.update(PROBLEMS_WRITE_OPERATION)
        for code, description in problems.items():
            if code not in responses:
                response = self._get_response_for_code(ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE])
                responses[code] = {**response, "description": description}
        return responses


def api_v1_only(endpoints):
    """SPECTACULAR_SETTINGS' preprocessing hook: the schema documents /api/v1/, not itself or the docs."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
