"""API keys: create (the raw key is returned once), revoke, and find the live key a request carries."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator

from waco.api.models import ApiKey
from waco.api.scopes import SCOPES, scopes_unknown
from waco.channels.models import BusinessAccount

# djangorestframework-api-key's scheme: an 8-character prefix, a 32-character secret, SHA-512.
KEY_GENERATOR = KeyGenerator()
# last_used_at is written at most this often per key: a busy key costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyRefused(Exception):
    """The key is unknown, wrong, revoked or expired; the message says which, for the key's holder."""


def key_create(
    *,
    name: str,
    scopes: Iterable[str],
    waba_ids: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its raw value, which is shown once and stored only hashed."""
    scopes = list(dict.fromkeys(scopes))
    unknown = scopes_unknown(scopes)
    if unknown:
        raise ValidationError(f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    if not scopes:
        raise ValidationError("A key needs at least one scope.")
    waba_ids = list(dict.fromkeys(waba_ids))
    accounts = list(BusinessAccount.objects.filter(waba_id__in=waba_ids))
    missing = sorted(set(waba_ids) - {account.waba_id for account in accounts})
    if missing:
        raise ValidationError(f"Unknown business accounts (WABA ids): {', '.join(missing)}.")
    raw, prefix, hashed = KEY_GENERATOR.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, prefix=prefix, hashed_key=hashed, scopes=scopes, expires_at=expires_at)
        key.business_accounts.set(accounts)
    return key, raw


def key_assign(key: ApiKey) -> str:
    """Give an unsaved key (the admin's form) its prefix and hash; returns the raw key, shown once."""
    raw, key.prefix, key.hashed_key = KEY_GENERATOR.generate()
    return raw


def key_revoke(prefix: str) -> ApiKey:
    """Revoke the key with this prefix at once (already revoked: unchanged). ApiKey.DoesNotExist if none."""
    key = ApiKey.objects.get(prefix=prefix)
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db()
    return key


def key_authenticate(raw: str) -> ApiKey:
    """The live key whose raw value is `raw`; KeyRefused otherwise."""
    prefix, dot, _ = raw.partition(".")
    key = ApiKey.objects.filter(prefix=prefix).first() if dot and prefix else None
    if key is None or not KEY_GENERATOR.verify(raw, key.hashed_key):
        raise KeyRefused("Invalid API key.")
    now = timezone.now()
    if key.revoked_at is not None:
        raise KeyRefused("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRefused("This API key has expired.")
    key_used(key, now)
    return key


def key_used(key: ApiKey, now: datetime) -> None:
    """Record the key's use, at most once per LAST_USED_RESOLUTION (the UPDATE's filter settles races)."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
