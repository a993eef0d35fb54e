import json

import pytest

from tests.workers import free_port, run_python

# Ask the health view from a fresh process, so each case gets its own settings.
HEALTH_PROBE = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "r = Client().get('/health/');"
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def probe_health(**env_overrides) -> dict:
    return json.loads(run_python(HEALTH_PROBE, env_overrides).strip().splitlines()[-1])


@pytest.mark.django_db
def test_health_reports_database_and_broker_ok(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "vendor": "postgresql"}
    assert body["checks"]["broker"] == {"status": "ok", "transport": "redis"}
    assert body["checks"]["worker"]["status"] in {"ok", "stale", "unknown"}


def test_health_names_the_broker_when_redis_is_stopped(transactional_db, private_redis):
    assert probe_health(REDIS_URL=private_redis.url)["status"] == 200
    private_redis.stop()

    answer = probe_health(REDIS_URL=private_redis.url)

    assert answer["status"] == 503
    assert answer["body"]["down"] == ["broker"]
    assert answer["body"]["checks"]["database"]["status"] == "ok"


def test_health_names_the_database_when_postgresql_is_down(transactional_db):
    answer = probe_health(DATABASE_URL=f"postgres://postgres:postgres@127.0.0.1:{free_port()}/waco")

    assert answer["status"] == 503
    assert answer["body"]["down"] == ["database"]
    assert "OperationalError" in answer["body"]["checks"]["database"]["error"]
    assert answer["body"]["checks"]["broker"]["status"] == "ok"
