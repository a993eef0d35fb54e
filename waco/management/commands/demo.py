"""`make demo`: migrate, seed, then run web, worker and beat until Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from waco import demo
from waco.celery_config import ALL_QUEUES

# How long a process may take to stop on SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10


def wait_for_http(url: str, *, timeout: float) -> bool:
    """Whether `url` answered (any status) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answered, even if with 503 while the worker starts
        except OSError:
            time.sleep(0.3)
    return False


class Command(BaseCommand):
    help = "Run the demo shop: migrate, seed, and serve web, a Celery worker and beat."

    def add_arguments(self, parser):
        # The port comes from PORT only: the sandbox and payment links derive from it too.
        parser.add_argument("--no-serve", action="store_true", help="Migrate and seed only.")

    def handle(self, *args, **options):
        if settings.WACO_ENV == "production":
            raise CommandError("The demo seeds a sandbox shop and prints a password: not in production.")
        port = settings.PORT
        call_command("migrate", interactive=False, verbosity=0)
        number = demo.demo_seed_channels()
        seeded_sandbox = demo.demo_seed_sandbox()
        catalog_run = demo.demo_seed_catalog(phone_number=number)
        demo.demo_seed_templates(phone_number=number)
        username, password = demo.demo_admin_reset_password()
        self.print_banner(port, number, username, password, seeded_sandbox, catalog_run)
        if options["no_serve"]:
            return
        self.supervise(self.process_commands(port), after_start=lambda: self.submit_templates(port, number))

    def print_banner(self, port, number, username, password, seeded_sandbox, catalog_run):
        variants = catalog_run.created + catalog_run.updated + catalog_run.unchanged
        base = f"http://127.0.0.1:{port}"
        lines = [
            "",
            "Waco demo is starting (SQLite, a folder as broker, the sandbox as Meta and Stripe).",
            f"  Admin:        {base}/admin/   user {username}   password {password}",
            *([f"  Chat:         {base}/demo/chat/   play the customer"] if seeded_sandbox else []),
            f"  Health:       {base}/health/",
            f"  API docs:     {base}/api/docs/",
            f"  Shop number:  {number.display_phone_number} (phone number id {number.graph_id},"
            " WACO_DEMO_PHONE_NUMBER_ID)",
            f"  Sandbox:      {'seeded' if seeded_sandbox else 'not installed'}",
            f"  Catalog:      {variants} variants in AED ({catalog_run.created} new)",
            "  Press Ctrl-C to stop the web server, the worker and beat.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def process_commands(self, port) -> dict[str, list[str]]:
        python = sys.executable
        return {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "waco",
                "worker",
                "--queues",
                ",".join(ALL_QUEUES),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "waco",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(settings.DEMO_DATA_DIR / "celerybeat-schedule"),
            ],
        }

    def submit_templates(self, port, number) -> None:
        """Once the web server answers, send the template drafts to the sandbox for review."""
        if not wait_for_http(f"http://127.0.0.1:{port}/health/", timeout=60):
            self.stderr.write("The web server did not answer; templates stay drafts (submit them in the admin).")
            return
        try:
            count = demo.demo_submit_templates(phone_number=number)
        except Exception as exc:  # the demo keeps running; staff can submit from the admin
            self.stderr.write(f"Submitting the demo templates failed: {exc}")
            return
        if count:
            self.stdout.write(f"Submitted {count} templates for review; the sandbox approves them in seconds.")

    def supervise(self, commands: dict[str, list[str]], after_start=None) -> None:
        """Start each process in its own group; stop all when one dies or on Ctrl-C."""
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        procs = {
            name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, start_new_session=True)
            for name, cmd in commands.items()
        }
        self.stdout.write("Started " + ", ".join(f"{name} (pid {p.pid})" for name, p in procs.items()) + ".")
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        if after_start:
            threading.Thread(target=after_start, daemon=True).start()
        exited = None
        while not stopping and exited is None:
            exited = next((name for name, p in procs.items() if p.poll() is not None), None)
            time.sleep(0.2)
        if exited:
            self.stderr.write(f"{exited} exited with code {procs[exited].returncode}; stopping the rest.")
        self.stop_all(procs)
        self.stdout.write("Stopped web, worker and beat.")
        if exited:
            raise CommandError(f"{exited} stopped unexpectedly")

    def stop_all(self, procs: dict[str, subprocess.Popen]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                # The main process only: celery stops its own pool children in order.
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
