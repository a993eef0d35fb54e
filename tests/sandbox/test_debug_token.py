"""debug_token at the sandbox: what Meta says of a token, asked with the app's own access token."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.support.sandbox_graph import assert_graph_error
from tests.support.sandbox_shop import TOKEN, WABA_ID
from waco.sandbox.services import app_secret_reset, token_state_set

pytestmark = pytest.mark.usefixtures("number")

BOTH_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management"]


def app_token(secret=None):
    return f"{settings.WACO_META_APP_ID}|{secret or settings.WACO_META_APP_SECRETS[0]}"


def debug(graph, input_token=TOKEN, *, token=None):
    return graph.get("debug_token", {"input_token": input_token}, token=token or app_token())


def test_a_known_token_is_valid_never_expires_and_has_both_whatsapp_scopes(graph):
    response = debug(graph)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["is_valid"] is True
    assert data["expires_at"] == 0
    assert data["app_id"] == settings.WACO_META_APP_ID
    assert data["scopes"] == BOTH_SCOPES
    assert {g["scope"] for g in data["granular_scopes"]} == set(BOTH_SCOPES)
    assert all(g["target_ids"] == [WABA_ID] for g in data["granular_scopes"])
    assert "error" not in data


def test_the_expiry_and_scopes_set_for_the_account_are_answered(graph):
    expiry = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    token_state_set(waba_id=WABA_ID, expires_at=expiry, scopes=["whatsapp_business_management"])
    data = debug(graph).json()["data"]
    assert data["is_valid"] is True
    assert data["expires_at"] == int(expiry.timestamp())
    assert data["scopes"] == ["whatsapp_business_management"]


def test_an_invalidated_token_is_answered_invalid_with_an_error_and_refused_elsewhere(graph):
    token_state_set(waba_id=WABA_ID, valid=False)
    data = debug(graph).json()["data"]
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190
    assert_graph_error(graph.get(WABA_ID), 190, http_status=401)


def test_an_expired_token_is_invalid(graph):
    token_state_set(waba_id=WABA_ID, expires_at=timezone.now() - timedelta(minutes=1))
    data = debug(graph).json()["data"]
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190 and data["error"]["subcode"] == 463


def test_an_unknown_input_token_is_answered_invalid_rather_than_refused(graph):
    response = debug(graph, "EAAG-not-a-token-this-sandbox-issued")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190
    assert data["scopes"] == []


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param(lambda: app_token("not-the-app-secret"), id="wrong secret"),
        pytest.param(lambda: f"999|{settings.WACO_META_APP_SECRETS[0]}", id="another app"),
        pytest.param(lambda: TOKEN, id="a system-user token"),
    ],
)
def test_only_the_apps_own_access_token_may_ask(graph, caller):
    assert_graph_error(debug(graph, token=caller()), 190, http_status=401)


def test_after_a_secret_reset_at_meta_the_configured_secret_is_refused(graph):
    app_secret_reset(app_secret="a-new-secret-only-meta-knows")
    assert_graph_error(debug(graph), 190, http_status=401)
    assert debug(graph, token=app_token("a-new-secret-only-meta-knows")).json()["data"]["is_valid"] is True


def test_input_token_is_required(graph):
    assert_graph_error(debug(graph, ""), 100)
