import pytest

from waco.ingest import registry


@pytest.fixture(autouse=True)
def bot_stays_quiet(monkeypatch):
    """Outbound's tests count their own sends: the dialogue's replies to the customer's
    messages (which they use to open the window) would be extra sends."""
    handlers = [h for h in registry.handlers_for("message") if not h.func.__module__.startswith("conversations.")]
    monkeypatch.setitem(registry._handlers, "message", handlers)
