"""Staff attach an image or document to a reply: the request keeps the file, the worker uploads it.

The page shows it back to those who may read the thread, and to nobody else."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations import staff
from conversations.models import InboundMedia, MediaStatus, ThreadMessage, ThreadState
from outbound.models import OutboundMedia, OutboundMessage
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from waco.cloud_api.client import GraphClient
from waco.contacts import services as contacts
from waco.sandbox.graph.media import placeholder

PNG = placeholder("image")[0]


@pytest.fixture(autouse=True)
def no_graph(monkeypatch):
    """The web request never calls Meta: the upload is the worker's."""
    monkeypatch.setattr(GraphClient, "_send", lambda self, *a, **k: pytest.fail("Graph called in the request"))


@pytest.fixture
def thread(db):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    contacts.window_touch(contact=thread.contact, phone_number=thread.phone_number, inbound_at=timezone.now())
    return thread


def png(name="shelf.png", content=PNG):
    return SimpleUploadedFile(name, content, content_type="image/png")


def reply_url(thread):
    return reverse("admin:conversations_thread_reply", args=[thread.pk])


def media_url(thread, message):
    return reverse("admin:conversations_thread_media", args=[thread.pk, message.pk])


def test_a_reply_with_an_image_is_queued_with_its_caption_and_kept_in_the_thread(admin_client, thread):
    response = admin_client.post(
        reply_url(thread), {"text": "The green one", "attachment": png(), "nonce": "1" * 32}, follow=True
    )
    assert "Queued for sending." in response.content.decode()
    message = OutboundMessage.objects.get()
    assert message.content == {"type": "image", "image": {"caption": "The green one"}}
    assert message.media.filename == "shelf.png" and message.media.mime_type == "image/png"
    assert message.media.file.read() == PNG and message.media.media_id == ""
    kept = ThreadMessage.objects.get(outbound=message)
    assert kept.type == "image" and kept.text == "[image: shelf.png] The green one"
    assert f'src="{media_url(thread, kept)}"' in response.content.decode()  # staff see what they sent


def test_an_image_may_go_without_text_but_a_reply_needs_one_or_the_other(admin_user, thread):
    message = staff.staff_reply(thread=thread, user=admin_user, text="", attachment=png())
    assert message.content == {"type": "image", "image": {}}
    with pytest.raises(staff.StaffRefusal, match="empty"):
        staff.staff_reply(thread=thread, user=admin_user, text="  ")


def test_a_double_submit_stores_the_file_once_and_sends_once(admin_client, thread):
    for _ in range(2):
        admin_client.post(reply_url(thread), {"text": "Here", "attachment": png(), "nonce": "2" * 32})
    assert OutboundMessage.objects.count() == OutboundMedia.objects.count() == 1


@pytest.mark.parametrize(
    ("file", "text", "why"),
    [
        (SimpleUploadedFile("notes.exe", b"MZ"), "x", "WhatsApp takes images and documents"),
        (png("photo.png", b"GIF89a"), "x", "does not match its name"),
        (png(), "x" * 1025, "1024 in a caption"),
    ],
)
def test_a_refused_file_says_why_and_stores_nothing(admin_client, thread, file, text, why):
    response = admin_client.post(reply_url(thread), {"text": text, "attachment": file}, follow=True)
    assert why in response.content.decode()
    assert not OutboundMessage.objects.exists() and not OutboundMedia.objects.exists()


def test_outside_the_window_nothing_is_stored(admin_user):
    thread = ThreadFactory(state=ThreadState.HANDOFF)  # the customer has not written: no window
    with pytest.raises(staff.WindowClosed):
        staff.staff_reply(thread=thread, user=admin_user, text="Look", attachment=png())
    assert not OutboundMedia.objects.exists()


def test_files_are_served_to_readers_of_their_thread_only(admin_client, viewer, admin_user, thread):
    staff.staff_reply(thread=thread, user=admin_user, text="", attachment=png())
    ours = ThreadMessage.objects.get()
    theirs = ThreadMessageFactory(thread=thread, type="image", text="")
    InboundMedia.objects.create(
        message=theirs, media_id="m9", status=MediaStatus.STORED, mime_type="text/html", file=ours.outbound.media.file
    )

    response = viewer.get(media_url(thread, ours))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    # A customer's file claiming to be HTML downloads, sandboxed: it never runs as a page of the admin.
    served = admin_client.get(media_url(thread, theirs))
    assert served["Content-Disposition"].startswith("attachment") and "sandbox" in served["Content-Security-Policy"]

    other = ThreadFactory()
    assert admin_client.get(media_url(other, ours)).status_code == 404  # not that thread's message
    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client = Client()
    client.force_login(nobody)
    assert client.get(media_url(thread, ours)).status_code == 403
