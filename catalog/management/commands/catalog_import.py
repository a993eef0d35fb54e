from pathlib import Path

import requests
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from catalog import feeds
from catalog.models import FeedFormat
from catalog.services import catalog_upsert
from waco.channels.models import BusinessAccount


class Command(BaseCommand):
    help = "Import a catalog feed (JSON or CSV, a file or a URL) into a business account's shop."

    def add_arguments(self, parser):
        parser.add_argument("source", help="path or http(s) URL of the feed")
        parser.add_argument("--account", required=True, help="WABA id of the business account")
        parser.add_argument("--format", choices=list(FeedFormat.values), help="default: from the extension")
        parser.add_argument("--partial", action="store_true", help="do not deactivate missing items")

    def handle(self, *args, source, account, format, partial, **options):
        business_account = BusinessAccount.objects.filter(waba_id=account).first()
        if business_account is None:
            raise CommandError(f"No business account with WABA id {account!r}.")
        format = format or (FeedFormat.CSV if source.lower().endswith(".csv") else FeedFormat.JSON)
        try:
            if source.startswith(("http://", "https://")):
                content = feeds.feed_fetch(url=source)
            else:
                content = Path(source).read_bytes()
            items = feeds.feed_parse(content=content, format=format)
        except (OSError, requests.RequestException) as exc:
            raise CommandError(f"Cannot read {source}: {exc}") from None
        except feeds.FeedError as exc:
            raise CommandError(f"Cannot import {source}: {exc}") from None

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"\r  {done}/{total} items", ending="")
            self.stdout.flush()

        with transaction.atomic():  # bad items are skipped in savepoints; a crash leaves nothing
            result = catalog_upsert(
                business_account=business_account,
                items=items,
                source=f"import:{source}",
                now=timezone.now(),
                full=not partial,
                progress=progress,
            )
        self.stdout.write("")
        self.stdout.write(
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
            f"deactivated {result.deactivated}, errors {len(result.errors)}"
        )
        for error in result.errors:
            self.stderr.write(f"  item {error['index']} ({error['sku'] or 'no sku'}): {error['error']}")
