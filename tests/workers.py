"""Real Celery worker and beat processes for the tests that need them.

They run `celery -A waco ...` as child processes against the test database and
the test Redis database, exactly as in production (no eager mode).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from waco.celery_config import ALL_QUEUES

REPO = Path(__file__).resolve().parents[1]


def child_process_env() -> dict:
    """The environment a child process needs to see the test database and Redis."""
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "waco.settings_test",
        "WACO_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }


class CeleryProcess:
    """One `celery` process (worker or beat) with its log in a file."""

    def __init__(self, args: list[str], log_path: Path, ready_marker: str, env: dict | None = None):
        self.args = args
        self.env = env or {}
        self.log_path = log_path
        self.ready_marker = ready_marker
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "CeleryProcess":
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the file
            offset = self.log_path.stat().st_size
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "waco", *self.args],
                cwd=REPO,
                env=child_process_env() | self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its pool children die with it on killpg
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery exited early:\n{self.log_tail()}")
            if self.ready_marker in self.log_path.read_text(errors="replace")[offset:]:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"celery not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 20) -> None:
        """A warm shutdown (SIGTERM), as an orderly deploy would do."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: a machine dying mid-task."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def celery_worker(
    log_path: Path, *, name: str = "worker", concurrency: int = 2, env: dict | None = None
) -> CeleryProcess:
    return CeleryProcess(
        [
            "worker",
            "--queues",
            ",".join(ALL_QUEUES),
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        log_path,
        ready_marker="ready.",
        env=env,
    )


def celery_beat(log_path: Path, env: dict | None = None) -> CeleryProcess:
    return CeleryProcess(
        ["beat", "--loglevel", "INFO", "--schedule", str(log_path.with_suffix(".schedule"))],
        log_path,
        ready_marker="beat: Starting",
        env=env,
    )


def wait_until(condition, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Poll `condition()` until it returns a truthy value; fail loudly after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message() if callable(message) else message}")


def run_python(code: str, env: dict | None = None, timeout: float = 60) -> str:
    """Run `code` in a fresh Python process with the test settings; return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=child_process_env() | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"child process failed:\n{result.stderr[-4000:]}")
    return result.stdout


class RedisServer:
    """A Redis server of a test's own on a fixed port, so the test can stop and restart it."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        import shutil
        import socket

        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(
            lambda: socket.socket().connect_ex(("127.0.0.1", self.port)) == 0,
            message=f"redis on port {self.port}",
        )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# For run_python: sends beat's periodic task named %r now, as beat would when it comes due.
RUN_BEAT_JOB = """
import django, json; django.setup()
from django_celery_beat.models import PeriodicTask
from waco.celery import app
job = PeriodicTask.objects.get(name=%r)
app.send_task(job.task, args=json.loads(job.args), kwargs=json.loads(job.kwargs), queue=job.queue)
"""
