"""ApiView: every /api/v1/ endpoint's key, scope, limits, idempotency, audit and problem details.

A subclass sets its scopes and writes its handlers; the rest happens here:
`read_scope` for GET/HEAD/OPTIONS, `write_scope` for the others, `scopes_by_method` per method.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import permissions, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from waco.api import idempotency
from waco.api.authentication import BearerKeyAuthentication
from waco.api.models import ApiAudit, ApiKey
from waco.api.pagination import CursorPage
from waco.api.problems import PROBLEM_CONTENT_TYPE, Problem
from waco.api.ratelimit import ApiKeyRateThrottle


class HasScope(permissions.BasePermission):
    """A key, holding the scope the view names for the method (403 without it; 401 without a key)."""

    message = "The API key lacks the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return False
        if request.method == "OPTIONS" or not hasattr(view, request.method.lower()):
            return True  # DRF describes the endpoint (OPTIONS) or answers 405: nothing to guard
        scope = view.required_scope(request.method)
        if request.auth.has_scope(scope):
            return True
        self.message = f"The API key lacks the scope {scope}."
        return False


class ApiMixin:
    read_scope: str | None = None
    write_scope: str | None = None
    scopes_by_method: dict[str, str] = {}

    authentication_classes = [BearerKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class = CursorPage

    @classmethod
    def required_scope(cls, method: str) -> str:
        method = method.upper()
        if method in cls.scopes_by_method:
            return cls.scopes_by_method[method]
        scope = cls.read_scope if method in permissions.SAFE_METHODS else cls.write_scope
        if scope is None:
            raise ImproperlyConfigured(f"{cls.__name__} names no scope for {method}")
        return scope

    def initial(self, request, *args, **kwargs):
        self._idempotency_claim = None
        super().initial(request, *args, **kwargs)  # key (401), scope (403), rate (429)
        body = self._body_read(request)
        header = request.headers.get(idempotency.HEADER)
        if header is not None and request.method in idempotency.METHODS:
            self._idempotency_claim = idempotency.idempotency_claim(
                idempotency.idempotency_key_check(header),
                request.path,
                idempotency.fingerprint(request.method, body),
            )

    def _body_read(self, request) -> bytes:
        """The body, refused with 413 before it is read when it is over WACO_API_MAX_BODY_BYTES.

        Read here, under the API's own limit, so that Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        (sized for webhooks) does not apply: setting `_body` is what HttpRequest.body does.
        """
        django_request = request._request
        try:
            length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.WACO_API_MAX_BODY_BYTES
        if length > limit:
            raise Problem(413, "Request body too large", detail=f"A request body may have at most {limit} bytes.")
        if not hasattr(django_request, "_body"):
            django_request._body = django_request.read(limit + 1) if length else b""
            django_request._read_started = True
        if len(django_request._body) > limit:
            raise Problem(413, "Request body too large", detail=f"A request body may have at most {limit} bytes.")
        return django_request._body

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = getattr(self, "_idempotency_claim", None), None
        if claim is not None:
            response.render()
            idempotency.idempotency_answer(claim, response)
        self._audit(request, response.status_code)
        return response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except Exception:
            # An uncaught error (a 500): free the Idempotency-Key for a real retry, and audit it.
            claim = getattr(self, "_idempotency_claim", None)
            if claim is not None:
                idempotency.idempotency_release(claim)
            self._audit(getattr(self, "request", None), 500)
            raise

    def _audit(self, request, status: int) -> None:
        if request is None or request.method in permissions.SAFE_METHODS:
            return
        # `_auth`, not `auth`: reading `auth` would authenticate a request that never got that far.
        key = getattr(request, "_auth", None)
        if isinstance(key, ApiKey):
            ApiAudit.objects.create(key=key, method=request.method, path=request.path[:500], status=status)

    def paginate(self, queryset, serializer_class, **serializer_kwargs):
        """One cursor page of `queryset` (ordered by the view's `ordering` or CursorPage's), serialized."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        serializer = serializer_class(page, many=True, context={"request": self.request}, **serializer_kwargs)
        return paginator.get_paginated_response(serializer.data)


class ApiView(ApiMixin, APIView):
    """An /api/v1/ endpoint: set read_scope / write_scope (or scopes_by_method) and write handlers."""


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    """The same for a viewset (DRF generics, routers); `pagination_class` is CursorPage."""


@csrf_exempt  # a DELETE to a mistyped path is a 404 like any other, not a CSRF page
def not_found(request, unmatched: str = ""):
    """Any /api/v1/ path no resource matches (an id of the wrong shape too): a 404 problem, never Django's HTML page."""
    problem = Problem(404, "Not Found", detail="No resource at this path.")
    return JsonResponse(problem.body(), status=404, content_type=PROBLEM_CONTENT_TYPE)
