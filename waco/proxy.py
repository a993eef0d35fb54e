"""Who is on the other end of a request: the client's address, proxies allowed for.

Forwarded headers are written by whoever sends the request, so they are believed only
when the deployment says a proxy stands in front (WACO_TRUSTED_PROXY_COUNT > 0). Each
trusted proxy appends the address it received the request from to X-Forwarded-For;
counting that many entries from the right lands on the address the nearest trusted
proxy saw, which a client cannot forge by sending its own header.
"""

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the forwarded one when a proxy is configured.

    With N trusted proxies, the address N hops from the right of X-Forwarded-For. A
    header with fewer entries than that did not pass through every proxy; the
    connection's own address is the only one left to believe.
    """
    meta = getattr(request, "META", None) or {}  # django-axes may pass a request-like object
    remote_addr = meta.get("REMOTE_ADDR", "")
    hops = settings.WACO_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote_addr
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote_addr
    return forwarded[-hops]
