"""Forwarded client addresses and schemes count only when a proxy is configured."""

import pytest
from django.test import RequestFactory

from waco.proxy import client_ip
from waco.sandbox.access import client_address as sandbox_client_address

CASES = [
    # (trusted proxies, REMOTE_ADDR, X-Forwarded-For, the client)
    (0, "203.0.113.7", None, "203.0.113.7"),
    (0, "203.0.113.7", "127.0.0.1", "203.0.113.7"),  # anyone can write the header
    (0, "10.0.0.2", "198.51.100.9, 127.0.0.1", "10.0.0.2"),
    (1, "10.0.0.2", "198.51.100.9", "198.51.100.9"),  # the proxy's view of the client
    (1, "10.0.0.2", "127.0.0.1, 198.51.100.9", "198.51.100.9"),  # a forged first entry is not believed
    (2, "10.0.0.2", "127.0.0.1, 198.51.100.9, 10.0.0.3", "198.51.100.9"),
    (2, "10.0.0.2", "198.51.100.9", "10.0.0.2"),  # fewer hops than proxies: the header did not pass them all
    (1, "10.0.0.2", "", "10.0.0.2"),
    (1, "10.0.0.2", " , ", "10.0.0.2"),
]


def request_from(remote_addr: str, forwarded_for: str | None, **extra):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers, **extra)


@pytest.mark.parametrize("proxies, remote_addr, forwarded_for, client", CASES)
def test_the_client_address_follows_the_trusted_proxy_count(settings, proxies, remote_addr, forwarded_for, client):
    settings.WACO_TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_from(remote_addr, forwarded_for)) == client


@pytest.mark.parametrize("proxies, remote_addr, forwarded_for, client", CASES)
def test_the_sandbox_judges_the_client_by_the_same_rule(settings, proxies, remote_addr, forwarded_for, client):
    settings.WACO_TRUSTED_PROXY_COUNT = proxies
    assert sandbox_client_address(request_from(remote_addr, forwarded_for)) == client


def test_forwarded_proto_does_not_make_a_request_secure_without_a_proxy(settings):
    assert settings.WACO_TRUSTED_PROXY_COUNT == 0
    assert not request_from("203.0.113.7", None, HTTP_X_FORWARDED_PROTO="https").is_secure()
