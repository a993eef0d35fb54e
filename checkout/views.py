"""The payment link on our domain, Stripe's return page and Stripe's webhook. Thin: the work is in services."""

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from checkout import stripe_client
from checkout.models import LinkStatus, PaymentLink
from waco.ingest import inbox, signatures
from waco.ingest.models import DeliverySource
from waco.ingest.views import reject_oversized

STRIPE_SIGNATURE_HEADER = "Stripe-Signature"


def _page(request, template: str, link: PaymentLink | None, status: int) -> HttpResponse:
    number = link.order.phone_number if link else None
    digits = "".join(ch for ch in number.display_phone_number if ch.isdigit()) if number else ""
    context = {
        "link": link,
        "order": link.order if link else None,
        "shop": number.verified_name if number else "",
        "whatsapp_url": f"https://wa.me/{digits}?text=checkout" if digits else "",
    }
    return render(request, template, context, status=status)


@require_GET
def pay(request, token: str):
    """Open the link: a redirect to Stripe while it is valid, else a page that says why and how to get a new one."""
    link = PaymentLink.objects.select_related("order__phone_number").filter(token=token).first()
    if link is None:
        return _page(request, "checkout/pay_unknown.html", None, 404)
    now = timezone.now()
    if link.status == LinkStatus.PAID:
        return _page(request, "checkout/pay_used.html", link, 410)
    if link.status in (LinkStatus.EXPIRED, LinkStatus.FAILED) or link.expires_at <= now:
        return _page(request, "checkout/pay_expired.html", link, 410)
    if link.status == LinkStatus.ISSUING or not link.stripe_session_url:
        return _page(request, "checkout/pay_preparing.html", link, 200)
    PaymentLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=now)
    return HttpResponseRedirect(link.stripe_session_url)


@require_GET
def pay_done(request, token: str):
    """Stripe's success_url. It proves nothing: the order is paid when Stripe, re-read, says so."""
    link = PaymentLink.objects.select_related("order__phone_number").filter(token=token).first()
    if link is None:
        return _page(request, "checkout/pay_unknown.html", None, 404)
    return _page(request, "checkout/pay_done.html", link, 200)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Check Stripe's signature, keep the event in the durable inbox, acknowledge. Workers do the rest."""
    if rejected := reject_oversized(request):
        return rejected
    body = request.body
    try:
        stripe_client.event_construct(body, request.headers.get(STRIPE_SIGNATURE_HEADER, ""))
        text = body.decode("utf-8")
    except (stripe_client.StripeSignatureError, UnicodeDecodeError) as exc:
        if isinstance(exc, stripe_client.StripeSignatureError):
            signatures.signature_failed(source=DeliverySource.STRIPE)
        return JsonResponse({"error": f"rejected: {exc}"}, status=400)
    inbox.delivery_receive(
        source=DeliverySource.STRIPE,
        body=text,
        headers={STRIPE_SIGNATURE_HEADER: request.headers.get(STRIPE_SIGNATURE_HEADER, "")},
    )
    return HttpResponse("ok", content_type="text/plain")
