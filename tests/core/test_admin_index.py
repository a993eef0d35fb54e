"""The admin index links to the demo chat while the sandbox is installed, and only then."""

import pytest

LINK = 'href="/demo/chat/"'


@pytest.mark.django_db
def test_the_admin_index_opens_the_demo_chat(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert LINK in page
    assert "Open the demo chat (play the customer)" in page
    assert "Site administration" in page and 'id="content-main"' in page  # Django's index, kept


@pytest.mark.django_db
def test_without_the_sandbox_the_admin_index_has_no_chat_link(admin_client, monkeypatch):
    monkeypatch.setattr("waco.templatetags.waco_admin.sandbox_installed", lambda: False)
    page = admin_client.get("/admin/").content.decode()
    assert LINK not in page and "demo chat" not in page
    assert "Site administration" in page
