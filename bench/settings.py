"""Settings for benchmarks: Waco's own, plus a bare one-INSERT view to compare with."""

from waco.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
