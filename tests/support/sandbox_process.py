"""The sandbox served alone in a process of its own, as Meta is, and its outbox read over HTTP."""

import subprocess
import sys

import pytest
import requests

from tests.workers import REPO, child_process_env, free_port, wait_until


@pytest.fixture
def sandbox_process(transactional_db, tmp_path):
    """The sandbox served alone in a process of its own, as Meta is: the test process's
    GIL then measures nothing. Its lean outbox is read over HTTP."""
    port = free_port()
    with open(tmp_path / "sandbox.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "waco.sandbox", "serve", "--port", str(port)],
            cwd=REPO,
            env=child_process_env() | {"WACO_SANDBOX_DELIVERY_THREAD": "false"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/sandbox"
    wait_until(lambda: _answers(f"{base}/config"), timeout=30, message="the sandbox to serve")
    yield base
    proc.terminate()
    proc.wait(10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


class Outbox:
    """The sandbox's sends, read incrementally: re-reading the whole outbox on every poll
    would load the sandbox, and so the pace being measured, more with every send."""

    def __init__(self, base: str):
        self.base, self.items = base, []

    def read(self) -> list[dict]:
        since = self.items[-1]["outbox_id"] if self.items else 0
        self.items += requests.get(
            f"{self.base}/graph/outbox", params={"since_id": since, "limit": 100_000}, timeout=10
        ).json()
        return self.items
