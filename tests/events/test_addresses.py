"""Production's rule for endpoint URLs: https, to public addresses only, checked when posting."""

import socket

import pytest

from waco.events.addresses import UrlRefused, target_resolve


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hooks",  # not https
        "ftp://shop.example/hooks",
        "https://user:pw@93.184.215.14/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.5/hooks",
        "https://192.168.1.1/hooks",
        "https://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "https://100.64.0.1/hooks",  # shared address space
        "https://0.0.0.0/hooks",
        "https://224.0.0.1/hooks",
        "https://240.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[fc00::1]/hooks",
        "https://[ff02::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",  # an IPv4-mapped private address
        "https://[2002:a00:1::]/hooks",  # 6to4 around 10.0.0.1
        "https://localhost/hooks",
    ],
)
def test_production_refuses(url):
    with pytest.raises(UrlRefused):
        target_resolve(url, allow_loopback=False)


def test_a_public_address_is_the_target():
    target = target_resolve("https://93.184.215.14:8443/hooks?shop=1", allow_loopback=False)

    assert (target.scheme, target.address, target.port, target.path) == (
        "https",
        "93.184.215.14",
        8443,
        "/hooks?shop=1",
    )


@pytest.fixture
def dns(monkeypatch):
    """A resolver that answers what the test says for shop.example, and counts the questions."""
    answers: dict[str, list[str]] = {}
    asked = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_a_name_resolving_to_a_private_address_is_refused_even_among_public_ones(dns):
    answers, _ = dns
    answers["shop.example"] = ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(UrlRefused, match="10.0.0.7 is a private address"):
        target_resolve("https://shop.example/hooks", allow_loopback=False)


def test_a_name_resolving_to_public_addresses_targets_the_first(dns):
    answers, _ = dns
    answers["shop.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    target = target_resolve("https://shop.example/hooks", allow_loopback=False)

    assert (target.hostname, target.address) == ("shop.example", "93.184.215.14")


def test_the_demo_and_the_tests_may_use_http_on_loopback_only():
    assert target_resolve("http://127.0.0.1:8001/hooks", allow_loopback=True).address == "127.0.0.1"
    with pytest.raises(UrlRefused):
        target_resolve("http://10.0.0.1/hooks", allow_loopback=True)
