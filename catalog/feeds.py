"""Fetching and parsing feeds from the system of record."""

import csv
import io
import json
from datetime import datetime

import requests

from catalog.models import FeedFormat, FeedSource, SyncRun
from catalog.services import catalog_upsert, sync_run_fail

# Connect fast, but give a slow exporter time to stream a large feed.
FETCH_TIMEOUT = (5, 60)
# A feed past this is a mistake (a wrong URL serving a dump), not a catalog.
MAX_FEED_BYTES = 20 * 1024 * 1024


class FeedError(Exception):
    """The feed is unusable as served; retrying will not help."""


class FeedTransientError(FeedError):
    """Timeout, connection failure or 5xx: worth retrying with backoff."""


def feed_parse(*, content: bytes | str, format: str) -> list[dict]:
    """JSON: a list of items or {"items": [...]}. CSV: a header row; attr_* columns are attributes."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    if format == FeedFormat.JSON:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise FeedError(f"not valid JSON: {exc}") from None
        items = data.get("items") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise FeedError('JSON feed must be a list of items or {"items": [...]}')
        return items
    if format == FeedFormat.CSV:
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise FeedError(f"not valid CSV: {exc}") from None
        if rows and "sku" not in rows[0]:
            raise FeedError("CSV feed needs a header row with a sku column")
        items = []
        for row in rows:
            if None in row:
                raise FeedError(f"CSV row {len(items) + 2} has more cells than the header")
            item = {k: v for k, v in row.items() if not k.startswith("attr_")}
            item["attributes"] = {k[5:]: v for k, v in row.items() if k.startswith("attr_") and v}
            items.append(item)
        return items
    raise FeedError(f"unknown feed format {format!r}")


def feed_fetch(*, url: str) -> bytes:
    """GET the feed with timeouts and a size limit; transient failures say so."""
    try:
        with requests.get(url, timeout=FETCH_TIMEOUT, stream=True) as response:
            if response.status_code >= 500 or response.status_code in (408, 429):
                raise FeedTransientError(f"{url} answered {response.status_code}")
            if response.status_code >= 400:
                raise FeedError(f"{url} answered {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError(f"{url} is larger than {MAX_FEED_BYTES} bytes")
            return bytes(body)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise FeedTransientError(f"{url}: {type(exc).__name__}") from None


def feed_sync(*, feed: FeedSource, now: datetime) -> SyncRun:
    """Fetch, parse and upsert one full feed. A failure is recorded as a failed run, then raised."""
    source = f"feed:{feed.url}"
    try:
        items = feed_parse(content=feed_fetch(url=feed.url), format=feed.format)
    except FeedError as exc:
        sync_run_fail(business_account=feed.business_account, source=source, now=now, error=str(exc))
        raise
    finally:
        FeedSource.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    return catalog_upsert(business_account=feed.business_account, items=items, source=source, now=now, full=True).run


def feeds_due(*, now: datetime) -> list[FeedSource]:
    """Active feeds never fetched or fetched at least `every_seconds` ago."""
    due = []
    for feed in FeedSource.objects.filter(active=True).select_related("business_account"):
        if feed.last_fetched_at is None or (now - feed.last_fetched_at).total_seconds() >= feed.every_seconds:
            due.append(feed)
    return due
