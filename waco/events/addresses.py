"""Where an event may be posted: https to public addresses, checked when posting.

A merchant's URL is ours to call from inside the deployment's network, so it must not reach
the metadata service, the database or anything else private. The check resolves the name at
delivery time (a record can change after the endpoint was saved), refuses when any address
it resolves to is special, and hands back the address checked: the connection goes there
(waco.events.posting), so a second, different DNS answer cannot slip in between.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {"https": 443, "http": 80}


class UrlRefused(Exception):
    """The URL may not be posted to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    hostname: str
    port: int
    address: str  # the checked IP address the connection must go to
    path: str  # path and query, as sent in the request line


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address is not a public one ("" when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo and address.teredo[1])
        if embedded:
            return address_refusal(embedded) or ""
    for flag in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):  # the most telling first
        if getattr(address, f"is_{flag}"):
            return f"{address} is a {flag.replace('_', '-')} address"
    if not address.is_global:  # shared (100.64/10), documentation and the other special ranges
        return f"{address} is not a global address"
    return ""


def url_refusal(url: str, *, allow_loopback: bool) -> str:
    """What is wrong with a URL before any lookup ("" when nothing is): the scheme and a literal address."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return "only https URLs with a host name are accepted"
    if parts.scheme != "https" and not allow_loopback:
        return "only https URLs are accepted"
    if parts.username or parts.password:
        return "a URL may not carry a user name or password"
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return ""
    return _refusal(literal, allow_loopback=allow_loopback)


def _refusal(address, *, allow_loopback: bool) -> str:
    if allow_loopback and address.is_loopback:
        return ""
    return address_refusal(address)


def target_resolve(url: str, *, allow_loopback: bool | None = None) -> Target:
    """Check the URL and every address its host resolves to now; raises UrlRefused."""
    if allow_loopback is None:
        allow_loopback = settings.WACO_EVENTS_ALLOW_LOOPBACK
    refusal = url_refusal(url, allow_loopback=allow_loopback)
    if refusal:
        raise UrlRefused(refusal)
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UrlRefused(f"{parts.hostname} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        refusal = _refusal(address, allow_loopback=allow_loopback)
        if refusal:
            raise UrlRefused(f"{parts.hostname} resolves to {refusal}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, str(addresses[0]), path)
