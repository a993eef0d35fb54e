"""Where the reference payloads live: tests/fixtures/ (SOURCES.md there says where each came from)."""

import copy
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
WEBHOOKS = FIXTURES / "webhooks"
GRAPH = FIXTURES / "graph"
# The facts Waco builds on, with the table of Graph error codes and their classes.
CLOUD_API_MD = REPO / "docs" / "cloud-api.md"


def webhook_files() -> list[Path]:
    return sorted(WEBHOOKS.glob("*.json"))


def graph_files() -> list[Path]:
    return sorted(GRAPH.glob("*.json"))


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def webhook(name: str) -> dict:
    return load(WEBHOOKS / name)


def only(events, cls):
    """The single event of a delivery, checked to be of `cls`."""
    assert len(events) == 1, events
    assert isinstance(events[0], cls), events[0]
    return events[0]


def envelope(field, value, *, waba_id="102290129340398", time=1751247548):
    """A one-change delivery, as Meta's docs show it."""
    entry = {"id": waba_id, "changes": [{"field": field, "value": value}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def change_message(body, **overrides):
    """A copy of a one-message delivery with fields of the message replaced."""
    body = copy.deepcopy(body)
    body["entry"][0]["changes"][0]["value"]["messages"][0].update(overrides)
    return body
