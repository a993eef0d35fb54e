"""Settings for the test suite: waco.settings in test mode (PostgreSQL and Redis)."""

import os

os.environ.setdefault("WACO_ENV", "test")

from waco.settings import *  # noqa: E402,F401,F403
