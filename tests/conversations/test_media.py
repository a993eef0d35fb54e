"""Customer media: fetched by media id with a fresh URL every try, checked, hashed and stored.

The sandbox, served by the live server, is Meta: customers send files through
it, GET /{media-id} answers short-lived signed URLs, and its faults give 5xx.
"""

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from conversations import media as media_service
from conversations.media import MediaRefused, media_download, media_download_enqueue, media_redispatch_lost
from conversations.models import InboundMedia, MediaStatus, Thread, ThreadMessage
from conversations.tasks import download_media, redispatch_lost_media
from tests.conversations.factories import InboundMediaFactory
from tests.support.sandbox_shop import sandbox_shop_wire
from tests.workers import celery_worker, wait_until
from waco import periodic
from waco.alerts.models import Alert
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_SERVICE
from waco.cloud_api.client import GraphClient
from waco.dispatch import send_task_or_log
from waco.sandbox import services as sandbox
from waco.sandbox.graph.media import placeholder
from waco.sandbox.models import Delivery

CUSTOMER = "971501230077"
# A real PNG, padded past the 64 KB chunks and the 1 MB in-memory spool.
PNG = placeholder("image")[0] + os.urandom(1_500_000)
PDF = b"%PDF-1.4 an invoice, not a photo"


@pytest.fixture
def shop(transactional_db, settings, live_server, tmp_path, test_redis):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    leases = list(test_redis.scan_iter("waco:media:*"))
    if leases:
        test_redis.delete(*leases)
    return sandbox_shop_wire(settings, live_server)


def customer_sends(shop, content: bytes, *, kind: str = "image", mime: str | None = None) -> InboundMedia:
    """A customer sends a file through the sandbox; the row is what the dialogue records from the webhook."""
    body = {"caption": "is this in stock?", **({"mime_type": mime} if mime else {})}
    inbound = sandbox.customer_message_send(
        wa_id=CUSTOMER, message={"type": kind, kind: body}, phone_number_id=shop.number.graph_id, media_bytes=content
    )
    webhook = json.loads(Delivery.objects.filter(ref=inbound.wamid).first().body)
    sent = webhook["entry"][0]["changes"][0]["value"]["messages"][0][kind]
    return InboundMediaFactory(
        message__thread__phone_number=shop.number,
        message__type=kind,
        message__wamid=inbound.wamid,
        media_id=sent["id"],
        declared_mime_type=sent["mime_type"],
        declared_sha256=sent["sha256"],
    )


def download_until_done(media: InboundMedia, tries: int = 5) -> list:
    """What the task does, without waiting out the countdowns."""
    results = []
    for _ in range(tries):
        results.append(media_download(media_id_pk=media.pk))
        if results[-1].retry_in is None:
            break
    media.refresh_from_db()
    return results


def stored_bytes(media: InboundMedia) -> bytes:
    with media.file.open("rb") as stored:
        return stored.read()


def stored_files() -> list[str]:
    return [name for _, _, names in os.walk(settings.MEDIA_ROOT) for name in names]


def record_lookups(monkeypatch, *, then=None) -> list[str]:
    """Every URL GET /{media-id} answered; `then(urls)` runs after each lookup."""
    urls, look_up = [], GraphClient.get_media_url

    def recording(client, media_id):
        info = look_up(client, media_id)
        urls.append(info.url)
        if then:
            then(urls)
        return info

    monkeypatch.setattr(GraphClient, "get_media_url", recording)
    return urls


# --- stored ------------------------------------------------------------------------------------


def test_a_customer_image_is_stored_with_its_hash_and_size(shop):
    media = customer_sends(shop, PNG)

    [result] = download_until_done(media)

    assert result.status == MediaStatus.STORED
    assert media.status == MediaStatus.STORED
    assert media.sha256 == hashlib.sha256(PNG).hexdigest() == media.declared_sha256
    assert media.size == len(PNG)
    assert media.mime_type == "image/png"
    assert media.attempts == 1 and media.stored_at is not None and media.error == ""
    assert media.file.name.startswith("inbound/") and media.file.name.endswith(f"{media.media_id}.png")
    assert stored_bytes(media) == PNG


def test_a_url_that_lives_one_second_expires_and_the_retry_fetches_the_media_id_again(shop, monkeypatch):
    sandbox.config_update(changes={"media_url_ttl_seconds": 1})
    media = customer_sends(shop, PNG)
    # The first URL is left to expire between the lookup and the download.
    # (the sandbox rounds the expiry up to a whole second: a 1 s URL lives at most 2 s)
    urls = record_lookups(monkeypatch, then=lambda urls: time.sleep(2.1) if len(urls) == 1 else None)

    first = media_download(media_id_pk=media.pk)
    media.refresh_from_db()
    assert first.status == MediaStatus.PENDING and first.retry_in > timedelta(0)
    assert "HTTP 404" in media.error  # the lookaside URL had expired

    results = [first, *download_until_done(media)]

    assert results[-1].status == MediaStatus.STORED
    assert len(urls) == len(results) >= 2 and len(set(urls)) == len(urls)  # a fresh URL every try
    assert media.sha256 == hashlib.sha256(PNG).hexdigest() == media.declared_sha256
    assert stored_bytes(media) == PNG
    assert media.attempts == len(results)


def test_a_graph_5xx_is_retried_and_then_the_media_is_stored(shop):
    media = customer_sends(shop, PNG)
    sandbox.config_update(changes={"server_error_rate": 1.0, "server_error_status": 503})

    first = media_download(media_id_pk=media.pk)
    media.refresh_from_db()
    assert first.status == MediaStatus.PENDING and first.retry_in is not None
    assert media.status == MediaStatus.PENDING and "transient" in media.error

    sandbox.config_update(changes={"server_error_rate": 0.0})
    second = media_download(media_id_pk=media.pk)
    media.refresh_from_db()
    assert second.status == MediaStatus.STORED
    assert media.attempts == 2 and media.error == "" and stored_bytes(media) == PNG


def test_a_photo_sent_as_a_document_is_stored(shop):
    media = customer_sends(shop, PNG, kind="document", mime="image/png")
    download_until_done(media)
    assert media.status == MediaStatus.STORED and media.mime_type == "image/png"


def test_meta_hash_in_base64_is_accepted(shop):
    media = customer_sends(shop, PNG)
    media.declared_sha256 = base64.b64encode(hashlib.sha256(PNG).digest()).decode()
    media.save()
    download_until_done(media)
    assert media.status == MediaStatus.STORED


def test_stored_media_is_not_downloaded_again(shop, monkeypatch):
    media = customer_sends(shop, PNG)
    download_until_done(media)
    urls = record_lookups(monkeypatch)

    assert media_download(media_id_pk=media.pk).status == "skipped"
    assert urls == []


def test_overlapping_attempts_store_the_file_once(shop, monkeypatch):
    media = customer_sends(shop, PNG)
    overlapping = []

    def another_worker_runs_meanwhile(urls):  # e.g. beat re-dispatched while the first was slow
        if len(urls) == 1:
            overlapping.append(media_download(media_id_pk=media.pk))

    record_lookups(monkeypatch, then=another_worker_runs_meanwhile)

    first = media_download(media_id_pk=media.pk)
    media.refresh_from_db()

    assert overlapping[0].status == MediaStatus.STORED and first.status == "skipped"
    assert media.status == MediaStatus.STORED and stored_bytes(media) == PNG
    assert stored_files() == [os.path.basename(media.file.name)]


# --- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize("meta_tells_the_size", [True, False])
def test_a_file_over_the_limit_of_its_kind_is_refused_without_retry(shop, monkeypatch, meta_tells_the_size):
    monkeypatch.setitem(media_service.MAX_BYTES, "image", 100_000)  # the real 5 MB, scaled down
    if not meta_tells_the_size:  # then the stream itself must be cut off
        look_up = GraphClient.get_media_url
        monkeypatch.setattr(
            GraphClient, "get_media_url", lambda client, media_id: replace(look_up(client, media_id), file_size=None)
        )
    media = customer_sends(shop, PNG)

    [result] = download_until_done(media)

    assert result.status == MediaStatus.FAILED and result.retry_in is None
    assert media.status == MediaStatus.FAILED and media.attempts == 1
    assert "limit for image" in media.error
    assert not media.file and stored_files() == []
    assert not Alert.objects.exists()  # the customer's file, not something staff can fix


@pytest.mark.parametrize(
    "kind, content, mime, reason",
    [
        ("image", PDF, "image/png", "the bytes are not image/png"),  # the name says PNG, the bytes say PDF
        ("image", PDF, "application/pdf", "application/pdf is not accepted for a image message"),
        ("document", b"MZ\x90\x00 an executable", "application/x-msdownload", "not accepted"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_without_retry(shop, kind, content, mime, reason):
    media = customer_sends(shop, content, kind=kind, mime=mime)

    [result] = download_until_done(media)

    assert result.status == MediaStatus.FAILED
    assert media.status == MediaStatus.FAILED and media.attempts == 1
    assert reason in media.error
    assert not media.file


def test_a_hash_mismatch_is_retried_then_failed_with_an_alert(shop, settings):
    settings.WACO_MEDIA_MAX_ATTEMPTS = 3
    media = customer_sends(shop, PNG)
    InboundMedia.objects.filter(pk=media.pk).update(declared_sha256="0" * 64)

    results = download_until_done(media)

    assert [r.status for r in results] == [MediaStatus.PENDING, MediaStatus.PENDING, MediaStatus.FAILED]
    assert media.status == MediaStatus.FAILED and media.attempts == 3
    assert "gave up after 3 attempts" in media.error and "does not match" in media.error
    assert not media.file and stored_files() == []
    alert = Alert.objects.get(kind="media_download_failed")
    assert alert.subject == str(shop.number) and media.media_id in alert.detail


def test_an_unknown_media_id_fails_at_once(shop):
    media = InboundMediaFactory(message__thread__phone_number=shop.number, media_id="1999999999999999")
    [result] = download_until_done(media)
    assert result.status == MediaStatus.FAILED and "does not know media id" in media.error


# --- the thread lock ---------------------------------------------------------------------------


def test_a_download_runs_while_the_dialogue_holds_the_thread_lock(shop):
    media = customer_sends(shop, PNG)
    locked, release = threading.Event(), threading.Event()

    def dialogue_holding_the_lock():
        try:
            with transaction.atomic():
                Thread.objects.select_for_update().get(pk=media.message.thread_id)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=dialogue_holding_the_lock)
    holder.start()
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a lock wait would fail the test, not hang it
        result = media_download(media_id_pk=media.pk)
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert result.status == MediaStatus.STORED


# --- dispatch ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_download_is_published_only_when_the_event_commits(django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(media_service, "send_task_or_log", lambda task, *args: published.append((task.name, args)))
    media = InboundMediaFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        media_download_enqueue(media)
        assert published == []

    assert len(callbacks) == 1
    assert published == [("conversations.download_media", (media.pk,))]


def test_beat_redispatches_only_the_downloads_whose_task_was_lost(shop, settings, monkeypatch):
    published = []
    monkeypatch.setattr(media_service, "send_task_or_log", lambda task, *args: published.append(args[0]) or True)
    lost = customer_sends(shop, PNG)
    fresh = customer_sends(shop, PNG)
    waiting_out_its_backoff = customer_sends(shop, PNG)
    sandbox.config_update(changes={"server_error_rate": 1.0})
    assert media_download(media_id_pk=waiting_out_its_backoff.pk).retry_in is not None
    sandbox.config_update(changes={"server_error_rate": 0.0})
    used_up = customer_sends(shop, PNG)
    InboundMedia.objects.filter(pk=used_up.pk).update(attempts=settings.WACO_MEDIA_MAX_ATTEMPTS)
    stored = customer_sends(shop, PNG)
    download_until_done(stored)
    old = timezone.now() - timedelta(minutes=10)
    ThreadMessage.objects.exclude(pk=fresh.message_id).update(recorded_at=old)

    assert media_redispatch_lost(now=timezone.now()) == 1
    assert published == [lost.pk]
    assert InboundMedia.objects.get(pk=used_up.pk).status == MediaStatus.FAILED
    assert media_redispatch_lost(now=timezone.now()) == 0  # the first run holds its lease

    download_until_done(lost)
    assert lost.status == MediaStatus.STORED and stored_bytes(lost) == PNG


# --- a real worker -----------------------------------------------------------------------------


@pytest.mark.worker
def test_a_real_worker_stores_media_enqueued_on_commit_and_the_one_beat_finds(shop, settings, tmp_path):
    # Started here rather than through the `worker` fixture: it must reach the live server's sandbox.
    env = {"WACO_GRAPH_API_BASE": settings.WACO_GRAPH_API_BASE, "WACO_MEDIA_ROOT": settings.MEDIA_ROOT}
    worker = celery_worker(tmp_path / "worker.log", name="media", env=env).start()
    try:
        with transaction.atomic():  # as the dialogue does, inside the webhook event's transaction
            enqueued = customer_sends(shop, PNG)
            media_download_enqueue(enqueued)
        lost = customer_sends(shop, PDF, kind="document")  # its task was never published
        ThreadMessage.objects.filter(pk=lost.message_id).update(recorded_at=timezone.now() - timedelta(minutes=10))

        wait_until(
            lambda: InboundMedia.objects.get(pk=enqueued.pk).status == MediaStatus.STORED,
            message=f"the worker to store the image\n{worker.log_tail()}",
        )
        send_task_or_log(redispatch_lost_media)  # what beat sends
        wait_until(
            lambda: InboundMedia.objects.get(pk=lost.pk).status == MediaStatus.STORED,
            message=f"beat's re-dispatch to store the document\n{worker.log_tail()}",
        )
    finally:
        worker.stop()
    enqueued.refresh_from_db()
    lost.refresh_from_db()
    assert stored_bytes(enqueued) == PNG and enqueued.sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored_bytes(lost) == PDF and lost.mime_type == "application/pdf"


# --- the type rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, declared, looked_up, served, chosen",
    [
        ("audio", "audio/ogg; codecs=opus", "audio/ogg", "audio/ogg", "audio/ogg"),  # a voice note
        ("image", "image/jpeg", "image/jpeg", "application/octet-stream", "image/jpeg"),  # a generic CDN type
        ("image", "", "image/jpg", "IMAGE/JPEG", "image/jpeg"),
        ("sticker", "image/webp", None, "image/webp", "image/webp"),
        ("document", "image/png", "image/png", "image/png", "image/png"),
        ("image", "image/png", "image/jpeg", "image/png", None),  # disagreeing names
        ("sticker", "image/png", "image/png", "image/png", None),
        ("image", "text/html", "text/html", "text/html", None),
        ("video", None, None, None, None),
    ],
)
def test_the_type_is_the_one_all_sources_name_and_the_kind_accepts(kind, declared, looked_up, served, chosen):
    if chosen is None:
        with pytest.raises(MediaRefused):
            media_service.media_type_choose(kind=kind, declared=declared, looked_up=looked_up, served=served)
    else:
        assert (
            media_service.media_type_choose(kind=kind, declared=declared, looked_up=looked_up, served=served) == chosen
        )


@pytest.mark.django_db
def test_the_lost_media_sweep_is_a_periodic_job_and_the_download_a_service_task():
    job = next(job for job in periodic.registered_jobs() if job.name == "conversations.redispatch_lost_media")
    assert (job.task, job.queue) == ("conversations.redispatch_lost_media", QUEUE_MAINTENANCE)
    assert PeriodicTask.objects.get(name=job.name).enabled
    assert (download_media.name, download_media.queue) == ("conversations.download_media", QUEUE_SERVICE)
