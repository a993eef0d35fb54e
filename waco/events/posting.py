"""One POST to a checked address: the Host header and TLS (SNI, certificate) name the host,
the TCP connection goes to the address waco.events.addresses checked, and a redirect is an answer,
never followed."""

import time
from dataclasses import dataclass

import urllib3

from waco.events.addresses import Target

EXCERPT_CHARS = 500


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _pool(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.hostname,  # SNI
            assert_hostname=target.hostname,  # the certificate must name the host, not the address
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)


def host_header(target: Target) -> str:
    host = f"[{target.hostname}]" if ":" in target.hostname else target.hostname
    default = {"https": 443, "http": 80}[target.scheme]
    return host if target.port == default else f"{host}:{target.port}"


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout_seconds: float) -> PostResult:
    """POST once; never raises for what the network or the receiver does (the result says it)."""
    started = time.monotonic()
    pool = _pool(target, urllib3.Timeout(total=timeout_seconds))
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header(target)},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT_CHARS * 4, decode_content=True)[: EXCERPT_CHARS * 4]
        finally:
            response.release_conn()
        return PostResult(
            status_code=response.status,
            latency_ms=_ms_since(started),
            response_excerpt=excerpt.decode("utf-8", "replace")[:EXCERPT_CHARS],
        )
    except Exception as exc:  # timeouts, refused connections, TLS failures, a reset: the attempt failed
        return PostResult(status_code=None, latency_ms=_ms_since(started), error=_describe(exc))
    finally:
        pool.close()


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _describe(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return f"{type(reason).__name__}: {reason}"[:EXCERPT_CHARS]
