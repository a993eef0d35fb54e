import json

import pytest
import requests
import responses

from catalog import tasks
from catalog.feeds import FeedError, feed_parse
from catalog.models import FeedFormat, FeedSource, SyncRun, SyncStatus, Variant
from tests.catalog.factories import CSV_FEED, FeedSourceFactory, feed_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_meta_push(monkeypatch):
    monkeypatch.setattr(tasks.push_to_meta, "delay", lambda *args: None)


@responses.activate
def test_a_json_feed_is_fetched_over_http_and_upserted():
    feed = FeedSourceFactory()
    responses.get(feed.url, json={"items": [feed_item("A-1"), feed_item("B-1")]})
    tasks.sync_feed.apply(args=[feed.pk])
    run = SyncRun.objects.get()
    assert (run.status, run.created, run.source) == (SyncStatus.SUCCEEDED, 2, f"feed:{feed.url}")
    assert FeedSource.objects.get().last_fetched_at is not None


@responses.activate
def test_a_csv_feed_is_fetched_with_attribute_columns():
    feed = FeedSourceFactory(url="https://erp.example.com/feed.csv", format=FeedFormat.CSV)
    responses.get(feed.url, body=CSV_FEED, content_type="text/csv")
    tasks.sync_feed.apply(args=[feed.pk])
    variant = Variant.objects.get(sku="ABY-1-M")
    assert variant.attributes == {"size": "M", "colour": "Black"}
    assert (variant.price_minor, variant.on_hand) == (32000, 0)


@responses.activate
def test_a_5xx_then_a_timeout_are_retried_until_the_feed_arrives():
    feed = FeedSourceFactory()
    responses.get(feed.url, status=503)
    responses.get(feed.url, body=requests.exceptions.ReadTimeout("slow"))
    responses.get(feed.url, json=[feed_item("A-1")])
    tasks.sync_feed.apply(args=[feed.pk])
    assert len(responses.calls) == 3
    statuses = list(SyncRun.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [SyncStatus.FAILED, SyncStatus.FAILED, SyncStatus.SUCCEEDED]
    assert Variant.objects.filter(sku="A-1").exists()


@responses.activate
def test_a_404_is_recorded_and_not_retried():
    feed = FeedSourceFactory()
    responses.get(feed.url, status=404)
    tasks.sync_feed.apply(args=[feed.pk])
    assert len(responses.calls) == 1
    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED and "404" in run.errors[0]["error"]


@responses.activate
def test_a_feed_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr("catalog.feeds.MAX_FEED_BYTES", 100)
    feed = FeedSourceFactory()
    responses.get(feed.url, body=json.dumps([feed_item(f"A-{n}") for n in range(10)]))
    tasks.sync_feed.apply(args=[feed.pk])
    assert "larger than" in SyncRun.objects.get().errors[0]["error"]
    assert not Variant.objects.exists()


def test_sync_feeds_queues_only_due_active_feeds(monkeypatch):
    from django.utils import timezone

    due = FeedSourceFactory()
    FeedSourceFactory(last_fetched_at=timezone.now(), every_seconds=3600)
    FeedSourceFactory(active=False)
    queued = []
    monkeypatch.setattr(tasks.sync_feed, "delay", queued.append)
    tasks.sync_feeds()
    assert queued == [due.pk]


@pytest.mark.parametrize(
    ("content", "format"),
    [
        ("{not json", FeedFormat.JSON),
        ('{"products": 1}', FeedFormat.JSON),
        ("name,price\nx,1\n", FeedFormat.CSV),
        ("sku,name\na,b,c\n", FeedFormat.CSV),
    ],
)
def test_malformed_feeds_raise_a_feed_error(content, format):
    with pytest.raises(FeedError):
        feed_parse(content=content, format=format)


def test_the_periodic_job_is_registered():
    from waco import periodic

    jobs = {job.name: job for job in periodic.registered_jobs()}
    assert jobs["catalog.sync_feeds"].task == "catalog.sync_feeds"
    assert "catalog.push_dirty" in jobs
