from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from waco.api.scopes import SCOPES, scopes_unknown
from waco.channels.models import BusinessAccount
from waco.crypto import EncryptedTextField


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(scope, str) for scope in value):
        raise ValidationError("Scopes are a list of names.")
    unknown = scopes_unknown(value)
    if unknown:
        raise ValidationError(f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")


class ApiKey(models.Model):
    """A key the merchant's systems use on /api/v1/: `<prefix>.<secret>`, stored as the prefix and a hash.

    The prefix finds the row; the SHA-512 of the whole key proves it (a random 32-character
    secret needs no slow password hash). Keys are revoked, never deleted: the audit points at them.
    """

    name = models.CharField(max_length=100, help_text="Who uses the key, e.g. “Storefront (production)”.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=200, editable=False)
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    business_accounts = models.ManyToManyField(
        BusinessAccount,
        blank=True,
        related_name="+",
        help_text="The accounts the key may see and write to. None chosen: every account.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the key never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Written at most once a minute per key (waco.api.keys.key_used), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def account_ids(self) -> set[int] | None:
        """The business accounts the key may see, by primary key; None means every account."""
        if not hasattr(self, "_account_ids"):
            ids = set(self.business_accounts.values_list("pk", flat=True))
            self._account_ids = ids or None
        return self._account_ids

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiAudit(models.Model):
    """One write request made with a key: who, what, the answer and when. Never the body."""

    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="audit")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API audit entry"
        verbose_name_plural = "API audit"

    def __str__(self):
        return f"{self.method} {self.path} → {self.status}"


class IdempotentRequest(models.Model):
    """A POST, PUT or PATCH sent with an Idempotency-Key: claimed before the work, then its answer.

    Every key belongs to the one merchant, so an Idempotency-Key is the merchant's, shared by
    all its API keys (a rotated key may retry what the old one sent), and scoped to the path.
    `status` is empty while the first request is in flight. The answer's body is encrypted at rest
    like any stored secret: some answers carry one (a webhook endpoint's `whsec_` secret, shown once).
    """

    idempotency_key = models.CharField(max_length=255)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method and the body.")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key", "path"], name="api_idempotency_key_path_unique")
        ]

    def __str__(self):
        return f"{self.idempotency_key} {self.path}"
