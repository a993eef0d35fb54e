import json
import shutil
import socket
import subprocess
import sys

import pytest

from tests.workers import REPO, child_process_env, wait_until

# Ask the health view from a fresh process, so each case gets its own settings.
HEALTH_PROBE = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "r = Client().get('/health/');"
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_health(**env_overrides) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", HEALTH_PROBE],
        cwd=REPO,
        env=child_process_env() | env_overrides,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def private_redis():
    """A Redis server of this test's own, so the test can stop it."""
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, message="redis to listen")
    yield proc, f"redis://127.0.0.1:{port}/0"
    proc.kill()
    proc.wait()


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
    proc, url = private_redis
    assert probe_health(REDIS_URL=url)["status"] == 200
    proc.terminate()
    proc.wait()

    answer = probe_health(REDIS_URL=url)

    assert answer["status"] == 503
    assert answer["body"]["down"] == ["broker"]
    assert answer["body"]["checks"]["database"]["status"] == "ok"


def test_health_names_the_database_when_postgresql_is_down(transactional_db):
    answer = probe_health(DATABASE_URL=f"postgres://postgres:postgres@127.0.0.1:{free_port()}/waco")

    assert answer["status"] == 503
    assert answer["body"]["down"] == ["database"]
    assert "OperationalError" in answer["body"]["checks"]["database"]["error"]
    assert answer["body"]["checks"]["broker"]["status"] == "ok"
