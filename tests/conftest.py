import importlib

import pytest
import redis
from django.apps import apps
from django.conf import settings

from tests.workers import RedisServer, celery_worker, free_port
from waco.cloud_api.client import close_session
from waco.flags import flag_clear
from waco.ingest import inbox
from waco.ingest.inbox import DOORBELL_KEY
from waco.sandbox.services import http_session_close as sandbox_http_session_close
from waco.sandbox.services import worker_stop as sandbox_delivery_stop

pytest_plugins = [
    "tests.support.browser",  # Playwright fixtures, shared by every browser test
    "tests.support.api_fixtures",  # API keys and clients for /api/v1/ tests
]


@pytest.fixture(scope="session")
def test_redis():
    """The Redis database the suite owns (REDIS_URL, db 1 by default): emptied at start."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def worker(django_db_setup, test_redis, tmp_path):
    """A real Celery worker process on the test database and Redis, for one test.

    Per test, so no worker lingers to take work that later tests drain in-process.
    Tests that use it need `transactional_db`, so that the worker sees their rows.
    """
    proc = celery_worker(tmp_path / "worker.log").start()
    yield proc
    proc.stop()


@pytest.fixture
def worker_log(worker):
    """On failure, the worker's log is what explains it."""
    yield worker
    print("--- worker log tail ---\n" + worker.log_tail())


@pytest.fixture
def private_redis():
    """A Redis server of this test's own (stop it, restart it on the same port)."""
    server = RedisServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_rate_limits(test_redis):
    """Rate-limit keys outlive a test; a later test's messages must not wait for them."""
    keys = list(test_redis.scan_iter("waco:ratelimit:*"))
    if keys:
        test_redis.delete(*keys)


@pytest.fixture(autouse=True)
def silent_doorbell():
    """Each test starts with no drain requested or counted."""
    flag_clear(DOORBELL_KEY)
    flag_clear(inbox.DRAINS_KEY)


@pytest.fixture(scope="session", autouse=True)
def stop_sandbox_delivery_thread_at_end():
    """The sandbox's delivery thread must let go of its connection before the test database is dropped."""
    yield
    sandbox_delivery_stop()


@pytest.fixture
def seed_keywords(db):
    """Transactional tests empty every table, data migrations' rows included: put the keywords back."""
    from conversations.models import Keyword

    if not Keyword.objects.exists():
        importlib.import_module("conversations.migrations.0004_seed_keywords").seed(apps, None)


@pytest.fixture
def worker_shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    """A shop on the sandbox (Meta and Stripe over HTTP) with a catalog and a real worker."""
    from tests.support.sandbox_shop import sandbox_shop_open

    shop = sandbox_shop_open(settings, live_server, tmp_path)
    yield shop
    shop.close()


@pytest.fixture
def live_server(live_server):
    """The live server, with Waco's pooled Graph connections to it closed afterwards: a
    kept-alive socket would hold a server thread, and its database connection, open."""
    yield live_server
    close_session()
    sandbox_http_session_close()
