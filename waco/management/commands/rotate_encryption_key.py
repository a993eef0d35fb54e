"""`manage.py rotate_encryption_key`: re-encrypt every stored secret under the first key.

Rotation: put the new key first in WACO_FIELD_ENCRYPTION_KEY and keep the old one
after it (both decrypt), restart, run this, then drop the old key. Prints counts and
the rows no key opens, never a secret.
"""

from django.core.management.base import BaseCommand, CommandError

from waco.stored_secrets import RotationRefused, secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of WACO_FIELD_ENCRYPTION_KEY (safe to run again)."

    def handle(self, *args, **options):
        try:
            rotations = secrets_reencrypt()
        except RotationRefused as refused:
            for name in (name for r in refused.rotations for name in r.undecryptable):
                self.stderr.write(f"no configured key decrypts {name}")
            raise CommandError("nothing was re-encrypted: put back the key those were encrypted under") from None
        for r in rotations:
            self.stdout.write(f"{r.label}: {r.reencrypted} re-encrypted, {r.current} already under the first key")
        self.stdout.write(self.style.SUCCESS(f"{sum(r.reencrypted for r in rotations)} secret(s) re-encrypted."))
