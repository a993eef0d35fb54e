"""The demo chat page at /demo/chat/: the visitor plays a WhatsApp customer.

What the customer sends goes to the sandbox's customer endpoint (from the
browser); what the business sent is read back through the JSON views here,
which only parse input and call chat.thread. Demo and tests only: the sandbox
is never installed in production, and this page has no login.
"""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from waco.sandbox.chat.thread import (
    ChatInputError,
    Cursor,
    chat_catalog,
    chat_number_get,
    chat_numbers,
    chat_thread_read,
)
from waco.sandbox.config import config_get
from waco.sandbox.models import Media


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_GET
def chat_page(request):
    return render(
        request,
        "sandbox/chat/page.html",
        {
            "numbers": chat_numbers(config=config_get()),
            "urls": {
                "send": reverse("sandbox:customer-messages"),
                "thread": reverse("sandbox_chat:thread"),
                "catalog": reverse("sandbox_chat:catalog"),
                "media": reverse("sandbox_chat:media", args=["0"])[:-1],
            },
        },
    )


@require_GET
def thread_api(request):
    """GET ?wa_id=&phone_number_id=&since=: new items, current ticks, the next cursor."""
    try:
        since = Cursor.parse(request.GET.get("since", ""))
        number = chat_number_get(request.GET.get("phone_number_id", ""))
        thread = chat_thread_read(config=config_get(), number=number, wa_id=request.GET.get("wa_id", ""), since=since)
    except ChatInputError as exc:
        return _bad_request(str(exc))
    return JsonResponse(thread)


@require_GET
def catalog_api(request):
    """GET ?phone_number_id=: the number's catalog, for product cards and the cart."""
    try:
        number = chat_number_get(request.GET.get("phone_number_id", ""))
    except ChatInputError as exc:
        return _bad_request(str(exc))
    return JsonResponse(chat_catalog(number=number))


@require_GET
def media_file(request, media_id):
    """The bytes of a media id, for images in the thread (the phone holds its own copies)."""
    media = Media.objects.filter(media_id=media_id).first()
    if media is None:
        return JsonResponse({"error": f"no media {media_id}"}, status=404)
    return HttpResponse(bytes(media.content), content_type=media.mime_type)
