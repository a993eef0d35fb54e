"""Pytest fixtures for /api/v1/ tests (a plugin listed in tests/conftest.py)."""

import pytest

from tests.support.api import ApiClient, api_key
from waco.api.scopes import SCOPES


@pytest.fixture
def api_client_factory(db):
    """`api_client_factory(scopes=[...], accounts=[...])`: a client with a new key's header set.

    The client's `api_key` and `raw_key` are the key's row and raw value.
    """

    def make(scopes=SCOPES, accounts=(), **key_fields) -> ApiClient:
        key, raw = api_key(scopes=scopes, accounts=accounts, **key_fields)
        client = ApiClient(raw)
        client.api_key = key
        return client

    return make


@pytest.fixture
def api_client(api_client_factory) -> ApiClient:
    """A client whose key holds every scope on every business account."""
    return api_client_factory()
