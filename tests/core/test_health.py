import json

import pytest

from tests.workers import free_port, run_python

TOKEN = "monitor-token-0123456789abcdef"
# Ask the health view from a fresh process, so each case gets its own settings; the
# probe is a monitor holding the token, so it sees the detail.
HEALTH_PROBE = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    f"r = Client().get('/health/', HTTP_AUTHORIZATION='Bearer {TOKEN}');"
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def probe_health(**env_overrides) -> dict:
    env = {"WACO_HEALTH_TOKEN": TOKEN} | env_overrides
    return json.loads(run_python(HEALTH_PROBE, env).strip().splitlines()[-1])


@pytest.mark.django_db
def test_health_reports_database_and_broker_ok_to_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("ops", password="x", is_staff=True))
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


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_learns_only_up(client, settings):
    settings.WACO_HEALTH_TOKEN = TOKEN
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_public_learns_only_down_when_a_part_is_down(transactional_db):
    code = (
        "import django, json; django.setup(); from django.test import Client; r = Client().get('/health/');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    dead_database = f"postgres://postgres:postgres@127.0.0.1:{free_port()}/waco"
    answer = json.loads(run_python(code, {"DATABASE_URL": dead_database}).strip().splitlines()[-1])
    assert answer == {"status": 503, "body": {"status": "down"}}


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_learns_only_up(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("customer", password="x"))
    assert client.get("/health/").json() == {"status": "ok"}


@pytest.mark.django_db
def test_a_monitor_with_the_token_sees_the_detail(client, settings):
    settings.WACO_HEALTH_TOKEN = TOKEN
    body = client.get("/health/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert body["checks"]["database"]["status"] == "ok" and body["down"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "])
def test_a_wrong_token_learns_only_up(client, settings, header):
    settings.WACO_HEALTH_TOKEN = TOKEN
    assert client.get("/health/", HTTP_AUTHORIZATION=header).json() == {"status": "ok"}


@pytest.mark.django_db
def test_no_token_configured_means_no_bearer_gets_the_detail(client, settings):
    settings.WACO_HEALTH_TOKEN = ""
    assert client.get("/health/", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "ok"}
