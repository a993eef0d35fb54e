"""`make demo` end to end: it serves the admin with the printed password and Ctrl-C stops all."""

import os
import re
import signal
import sqlite3
import subprocess
import sys

import pytest
import requests

from tests.workers import REPO, free_port, wait_until

pytestmark = pytest.mark.worker


def demo_env(tmp_path, port: int) -> dict:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "WACO_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("WACO_")}
    return env | {"WACO_DATA_DIR": str(tmp_path / "var"), "PORT": str(port), "PYTHONUNBUFFERED": "1"}


def test_demo_serves_the_admin_with_the_printed_password_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo"],
            cwd=REPO,
            env=demo_env(tmp_path, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        password = wait_until(
            lambda: (m := re.search(r"user admin\s+password (\S+)", log.read_text())) and m.group(1),
            timeout=90,
            message="the demo to print the admin password",
        )
        health = wait_until(lambda: _get_json(f"{base}/health/"), timeout=60, message="the demo to serve /health/")
        assert health == {"status": "ok"}  # the public learns up or down only

        session = requests.Session()
        login = session.get(f"{base}/admin/login/", timeout=5)
        csrf = session.cookies["csrftoken"]
        response = session.post(
            f"{base}/admin/login/?next=/admin/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"},
            headers={"Referer": login.url},
            timeout=5,
        )
        assert response.status_code == 200
        assert "Site administration" in response.text
        assert 'href="/demo/chat/"' in response.text  # the admin index opens the chat
        detail = session.get(f"{base}/health/", timeout=5).json()  # staff see which parts answer
        assert detail["checks"]["database"]["vendor"] == "sqlite"
        assert detail["checks"]["broker"]["transport"] == "filesystem"

        # The chat page is printed beside the admin and served, with the demo shop to write to.
        chat_url = re.search(r"Chat:\s+(\S+)", log.read_text()).group(1)
        assert chat_url == f"{base}/demo/chat/"
        chat = requests.get(chat_url, timeout=5)
        assert chat.status_code == 200 and "Waco Demo Shop" in chat.text

        # A customer message from the sandbox goes through the webhook and a real worker.
        sent = requests.post(
            f"{base}/sandbox/customer/messages",
            json={"from": "971500000042", "name": "Noor", "message": {"type": "text", "text": {"body": "hi"}}},
            timeout=5,
        )
        assert sent.status_code == 200
        wait_until(
            lambda: "971500000042" in session.get(f"{base}/admin/contacts/contact/", timeout=5).text,
            timeout=30,
            message="the worker to record the customer",
        )
        # ... and the dialogue answers from the seeded shop, through the send path to the sandbox.
        menu = wait_until(
            lambda: _get_json(f"{base}/sandbox/graph/outbox?to=971500000042"),
            timeout=30,
            message="the menu to reach the sandbox outbox",
        )
        assert "Welcome to Waco Demo Shop" in menu[0]["interactive"]["body"]["text"]

        # The demo's templates were submitted and the sandbox's review approved them.
        wait_until(
            lambda: _template_statuses(tmp_path) == {"approved"},
            timeout=60,
            message="the demo templates to be approved",
        )
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        demo.wait(30)
    output = log.read_text()
    assert "Stopped web, worker and beat." in output, output[-3000:]
    pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", output)]
    assert len(pids) == 3
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _template_statuses(tmp_path) -> set[str]:
    with sqlite3.connect(tmp_path / "var" / "waco.sqlite3", timeout=10) as db:
        return {status for (status,) in db.execute("SELECT status FROM templates_lib_template")}


def _get_json(url: str):
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response.json() if response.status_code == 200 else None
