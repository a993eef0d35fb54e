"""`manage.py apikey_create --scopes a,b --name NAME [--account WABA_ID ...] [--expires-in-days N]`."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from waco.api.keys import key_create
from waco.api.scopes import SCOPES


class Command(BaseCommand):
    help = "Create an API key and print it once (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Who uses the key, e.g. 'Storefront (production)'.")
        parser.add_argument("--scopes", required=True, help=f"Comma-separated, from: {', '.join(SCOPES)}.")
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="WABA_ID",
            help="Limit the key to this business account (repeat for several; none: every account).",
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="Expire the key after N days.")

    def handle(self, *args, name, scopes, account, expires_in_days, **options):
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            key, raw = key_create(
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                waba_ids=account,
                expires_at=expires_at,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(raw)
        self.stderr.write(
            f"Created key {key.prefix} ({key.name}): scopes {', '.join(key.scopes)}; "
            f"accounts {', '.join(account) or 'all'}; expires {key.expires_at or 'never'}. "
            "Copy the key now: it is not stored and will not be shown again."
        )
