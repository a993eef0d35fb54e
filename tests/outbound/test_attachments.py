"""Staff's files: checked and kept at enqueue, uploaded to the sandbox's Graph API by the drain, sent by id."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from outbound import attachments, sending, services
from outbound.models import MessageCategory, MessageStatus, OutboundMedia, SendAttempt
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.celery_config import QUEUE_SERVICE
from waco.sandbox import services as sandbox
from waco.sandbox.graph.media import placeholder
from waco.sandbox.models import Media

CUSTOMER = "971501230002"
PNG = placeholder("image")[0]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def shop(transactional_db, settings, live_server):
    return sandbox_shop_wire(settings, live_server)


def upload(name="shelf.png", content=PNG):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def send_with_file(shop, file, caption="The green one"):
    media, found = attachments.attachment_store(phone_number=shop.number, upload=file)
    return services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content=attachments.attachment_content(kind=found.kind, caption=caption, filename=media.filename),
        media=media,
    )


def test_the_drain_uploads_the_file_then_sends_the_image_by_its_media_id(shop):
    shop.customer_says(CUSTOMER)
    message = send_with_file(shop, upload())
    assert message.content == {"type": "image", "image": {"caption": "The green one"}}  # no id before the send
    assert message.media.media_id == ""

    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED
    [sent] = shop.sent_bodies(to=CUSTOMER)
    assert sent["type"] == "image" and sent["image"]["caption"] == "The green one"
    assert sent["image"]["id"] == message.media.media_id
    at_meta = Media.objects.get(media_id=message.media.media_id)
    assert bytes(at_meta.content) == PNG and at_meta.mime_type == "image/png"
    assert message.content == {"type": "image", "image": {"caption": "The green one"}}  # the id lives on the media


def test_a_document_goes_with_its_file_name(shop):
    shop.customer_says(CUSTOMER)
    message = send_with_file(shop, upload("invoice W-1042.pdf", PDF), caption="")
    sending.outbox_drain(queue=QUEUE_SERVICE)
    [sent] = shop.sent_bodies(to=CUSTOMER)
    assert sent["type"] == "document" and sent["document"]["filename"] == "invoice W-1042.pdf"
    assert "caption" not in sent["document"]
    assert bytes(Media.objects.get(media_id=sent["document"]["id"]).content) == PDF
    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED


def test_a_resend_within_30_days_reuses_the_media_id_and_after_uploads_again(shop):
    shop.customer_says(CUSTOMER)
    message = send_with_file(shop, upload())
    sending.outbox_drain(queue=QUEUE_SERVICE)
    first_id = OutboundMedia.objects.get().media_id

    def send_again():
        shop.customer_says(CUSTOMER)  # the window is open for the re-send
        type(message).objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
        services.messages_resend(messages=type(message).objects.filter(pk=message.pk))
        sending.outbox_drain(queue=QUEUE_SERVICE)
        return shop.sent_bodies(to=CUSTOMER)[-1]["image"]["id"]

    assert send_again() == first_id and Media.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=29, minutes=1)):
        renewed = send_again()
    assert renewed != first_id and Media.objects.count() == 2
    assert OutboundMedia.objects.get().media_id == renewed


def test_a_failed_upload_sends_nothing_and_the_message_waits_for_its_next_attempt(shop):
    shop.customer_says(CUSTOMER)
    message = send_with_file(shop, upload())
    sandbox.config_update(changes={"server_error_rate": 1.0})

    sending.outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    # A 5xx on a send would leave its outcome unknown; on the upload, the message surely did not leave.
    assert message.status == MessageStatus.QUEUED and message.next_attempt_at > timezone.now()
    assert "media upload: " in SendAttempt.objects.get(message=message).detail
    assert shop.sent_bodies(to=CUSTOMER) == [] and message.media.media_id == ""

    sandbox.config_update(changes={"server_error_rate": 0.0})
    type(message).objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    sending.outbox_drain(queue=QUEUE_SERVICE)
    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED and len(shop.sent_bodies(to=CUSTOMER)) == 1


def test_a_file_gone_from_storage_fails_the_message_for_a_person(shop):
    shop.customer_says(CUSTOMER)
    message = send_with_file(shop, upload())
    message.media.file.delete(save=False)
    sending.outbox_drain(queue=QUEUE_SERVICE)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and "missing" in message.error_detail
    assert shop.sent_bodies(to=CUSTOMER) == []


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("virus.exe", b"MZ", "WhatsApp takes images and documents"),
        ("photo.png", b"GIF89a not a png", "its content does not match its name"),
        ("scan.pdf", b"", "is empty"),
        ("huge.png", PNG + b"\0" * (5 * 1024 * 1024), "WhatsApp takes images up to 5,242,880 bytes"),
        ("noextension", PNG, "WhatsApp takes images and documents"),
    ],
)
def test_a_file_whatsapp_would_refuse_is_refused_before_anything_is_stored(db, name, content, why):
    from tests.channels.factories import PhoneNumberFactory

    with pytest.raises(attachments.AttachmentRefused, match=why):
        attachments.attachment_store(phone_number=PhoneNumberFactory(), upload=upload(name, content))
    assert not OutboundMedia.objects.exists()
