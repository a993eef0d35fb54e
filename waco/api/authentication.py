"""`Authorization: Bearer <key>` for DRF: the request's `auth` is the ApiKey."""

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from waco.api.keys import KeyRefused, key_authenticate


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """No header: not authenticated (401 from the permission check); a wrong or dead key: 401 at once."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("The Authorization header names no key.")
        try:
            key = key_authenticate(raw)
        except KeyRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        # No staff user stands behind a key: the key itself is what the views check.
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return self.keyword
