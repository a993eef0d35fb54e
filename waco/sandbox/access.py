"""Who may use the sandbox: this machine only, unless a hosted demo opens it.

The sandbox marks orders paid and writes as any customer; on a public address it
would let anyone do both. Its views answer loopback clients only, judged on the
connection's address, unless WACO_SANDBOX_OPEN is set.

The sandbox imports nothing of Waco's (it is an outside service), so the client's
address is worked out here by the same rule as waco.proxy.client_ip: forwarded
addresses count only when WACO_TRUSTED_PROXY_COUNT says proxies stand in front
(tests/core/test_proxy.py holds the two to the same answers).
"""

import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden

REFUSAL = (
    "The sandbox answers only clients on this machine (loopback): it can mark orders paid "
    "and write as any customer. To open it for a hosted demo, set WACO_SANDBOX_OPEN=true.\n"
)


def client_address(request) -> str:
    """REMOTE_ADDR, or with N trusted proxies the address N hops from the right of X-Forwarded-For."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "WACO_TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-hops] if len(forwarded) >= hops else remote_addr


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


def is_sandbox_view(view_func) -> bool:
    return view_func.__module__ == __package__ or view_func.__module__.startswith(__package__ + ".")


class SandboxLoopbackOnlyMiddleware:
    """Refuses every sandbox view (Graph, customers, Stripe, the chat) to other clients."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_sandbox_view(view_func) or getattr(settings, "WACO_SANDBOX_OPEN", False):
            return None
        if is_loopback(client_address(request)):
            return None
        return HttpResponseForbidden(REFUSAL, content_type="text/plain; charset=utf-8")
