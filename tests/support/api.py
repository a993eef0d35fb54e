"""API keys and clients for tests of /api/v1/: `api_key(...)` makes a key, `ApiClient(raw)` sends it."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from rest_framework.test import APIClient

from waco.api.keys import key_create
from waco.api.models import ApiKey
from waco.api.scopes import SCOPES
from waco.channels.models import BusinessAccount


def api_key(
    scopes: Iterable[str] = SCOPES,
    accounts: Iterable[BusinessAccount] = (),
    name: str = "Test storefront",
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A live key holding `scopes` (every scope by default), limited to `accounts` (none: all)."""
    return key_create(
        name=name, scopes=scopes, waba_ids=[account.waba_id for account in accounts], expires_at=expires_at
    )


def bearer(raw: str) -> dict:
    """The header, as keyword arguments of Django's and DRF's test clients."""
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


class ApiClient(APIClient):
    """DRF's test client sending JSON with `Authorization: Bearer <raw>` on every request."""

    def __init__(self, raw: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.default_format = "json"
        self.raw_key = raw
        if raw is not None:
            self.credentials(**bearer(raw))


def tables_containing(text: str) -> list[str]:
    """Every `table.column` (text, varchar, json) in the database whose value contains `text`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',  # noqa: S608  (names from the catalog)
                [f"%{text}%"],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found
