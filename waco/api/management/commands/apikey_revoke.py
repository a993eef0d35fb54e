"""`manage.py apikey_revoke PREFIX`: the key stops working at once."""

from django.core.management.base import BaseCommand, CommandError

from waco.api.keys import key_revoke
from waco.api.models import ApiKey


class Command(BaseCommand):
    help = "Revoke the API key with this prefix (the part before the dot)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        try:
            key = key_revoke(prefix.partition(".")[0])
        except ApiKey.DoesNotExist:
            raise CommandError(f"No API key with prefix {prefix.partition('.')[0]!r}.") from None
        self.stdout.write(f"Revoked {key.prefix} ({key.name}) at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC.")
