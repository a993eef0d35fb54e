"""The sandbox served alone (as Meta), for benchmarks run under gunicorn."""

from waco.settings import *  # noqa: F401,F403

ROOT_URLCONF = "waco.sandbox.standalone_urls"
DEBUG = False
WACO_SANDBOX_DELIVERY_THREAD = env.bool("WACO_SANDBOX_DELIVERY_THREAD", default=False)  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
