"""The sandbox answers this machine only, judged on the connection, unless opened on purpose."""

import pytest
from django.test import RequestFactory

from waco.health import health_view
from waco.sandbox import config_views
from waco.sandbox.access import REFUSAL, SandboxLoopbackOnlyMiddleware
from waco.sandbox.chat import views as chat

PUBLIC = "203.0.113.7"
SANDBOX_PAGES = ["/sandbox/config", "/sandbox/graph/outbox", "/demo/chat/"]


def decide(view, **meta):
    """What the middleware says about `view` for a request with these META values (None: let through)."""
    request = RequestFactory().get("/", **meta)
    return SandboxLoopbackOnlyMiddleware(lambda r: None).process_view(request, view, (), {})


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_are_let_through(address):
    assert decide(config_views.config_view, REMOTE_ADDR=address) is None


@pytest.mark.parametrize(
    "address", [PUBLIC, "10.0.0.2", "192.168.1.5", "::ffff:203.0.113.7", "2001:db8::1", "", "junk"]
)
def test_other_clients_are_refused_with_a_reason(address):
    response = decide(config_views.config_view, REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.content.decode() == REFUSAL and "WACO_SANDBOX_OPEN" in REFUSAL


def test_a_forwarded_loopback_address_without_a_proxy_is_not_believed(settings):
    assert settings.WACO_TRUSTED_PROXY_COUNT == 0
    response = decide(chat.chat_page, REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="127.0.0.1", HTTP_X_REAL_IP="127.0.0.1")
    assert response.status_code == 403


def test_behind_a_local_proxy_the_forwarded_client_is_judged(settings):
    settings.WACO_TRUSTED_PROXY_COUNT = 1
    # The proxy connects from loopback; the client it forwards is public.
    assert decide(config_views.config_view, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=PUBLIC).status_code == 403
    assert decide(config_views.config_view, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1") is None


def test_an_opened_sandbox_answers_anyone(settings):
    settings.WACO_SANDBOX_OPEN = True
    assert decide(config_views.config_view, REMOTE_ADDR=PUBLIC) is None


def test_waco_views_are_not_guarded_by_the_sandbox():
    assert decide(health_view, REMOTE_ADDR=PUBLIC) is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", SANDBOX_PAGES)
def test_through_the_urls_a_public_client_gets_403_and_loopback_gets_the_page(client, number, path):
    refused = client.get(path, REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert refused.status_code == 403 and b"loopback" in refused.content
    assert client.get(path).status_code == 200  # the test client connects from 127.0.0.1


@pytest.mark.django_db
def test_a_public_client_cannot_pay_through_the_sandbox_stripe(client):
    answer = client.post("/sandbox/stripe/v1/checkout/sessions", REMOTE_ADDR=PUBLIC)
    assert answer.status_code == 403
