"""Every secret stored encrypted (waco.crypto.EncryptedTextField): checked by beat, rotated by a command.

A secret no configured key opens (a key dropped from WACO_FIELD_ENCRYPTION_KEY too
early, a restore under other keys) would only surface when Waco next needs it, as a
failed send: the hourly check finds it first and alerts, naming the row. Neither
function ever logs, prints or puts in an alert a secret or its ciphertext.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from waco import crypto
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve

ALERT_KIND = "secret_undecryptable"


def encrypted_fields() -> list[tuple[type[models.Model], crypto.EncryptedTextField]]:
    return [
        (model, f)
        for model in apps.get_models()
        if not model._meta.proxy  # a proxy's rows are its concrete model's
        for f in model._meta.concrete_fields
        if isinstance(f, crypto.EncryptedTextField)
    ]


def _rows(model, f, *, lock: bool = False):
    """The rows holding a secret, each with its ciphertext as `_ciphertext`; the secret itself is not loaded."""
    rows = (
        model._default_manager.defer(f.attname)
        .annotate(_ciphertext=Cast(f.attname, models.TextField()))
        .exclude(**{f"{f.attname}__isnull": True})
        .exclude(**{f.attname: ""})
        .order_by("pk")
    )
    return rows.select_for_update(of=("self",)) if lock else rows


def _subject(row, f) -> str:
    return f"{row._meta.verbose_name} {row} ({f.verbose_name})"


def secrets_check() -> list[str]:
    """Decrypt every stored secret; alert for each one no configured key opens, resolve for each that opens.

    Returns the subjects of those that failed.
    """
    failed = []
    for model, f in encrypted_fields():
        for row in _rows(model, f):
            subject = _subject(row, f)
            try:
                crypto.decrypt(row._ciphertext)
            except crypto.InvalidToken:
                failed.append(subject)
                alert_raise(
                    kind=ALERT_KIND,
                    subject=subject,
                    severity=AlertSeverity.CRITICAL,
                    detail="No key in WACO_FIELD_ENCRYPTION_KEY decrypts it: put back the key it was encrypted "
                    "under (after the first), or enter the secret again in the admin.",
                )
            else:
                alert_resolve(kind=ALERT_KIND, subject=subject)
    return failed


@dataclass
class Rotation:
    label: str
    reencrypted: int = 0
    current: int = 0
    undecryptable: list[str] = field(default_factory=list)


class RotationRefused(Exception):
    """Some secret opens under no configured key: nothing was changed."""

    def __init__(self, rotations: list[Rotation]):
        self.rotations = rotations
        names = [name for r in rotations for name in r.undecryptable]
        super().__init__(f"no configured key decrypts: {', '.join(names)}")


@transaction.atomic
def secrets_reencrypt() -> list[Rotation]:
    """Re-encrypt every stored secret under the first key, in one transaction; idempotent.

    Secrets already under the first key are left as they are. If any secret opens under
    no key, RotationRefused is raised and nothing is written.
    """
    rotations = []
    for model, f in encrypted_fields():
        rotation = Rotation(label=f"{model._meta.label}.{f.name}")
        for row in _rows(model, f, lock=True):
            try:
                stale = crypto.needs_rotation(row._ciphertext)
            except crypto.InvalidToken:
                rotation.undecryptable.append(_subject(row, f))
                continue
            if stale:
                # update() encrypts the plaintext under the first key (EncryptedTextField.get_prep_value).
                model._default_manager.filter(pk=row.pk).update(**{f.attname: crypto.decrypt(row._ciphertext)})
                rotation.reencrypted += 1
            else:
                rotation.current += 1
        rotations.append(rotation)
    if any(r.undecryptable for r in rotations):
        raise RotationRefused(rotations)
    return rotations
