import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import SyncRun, Variant
from tests.catalog.factories import CSV_FEED, feed_item
from tests.channels.factories import BusinessAccountFactory

pytestmark = pytest.mark.django_db


def run_import(*args):
    out, err = StringIO(), StringIO()
    call_command("catalog_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_of_a_json_file_shows_progress_and_counts(tmp_path):
    account = BusinessAccountFactory()
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([feed_item("A-1"), feed_item("A-2"), feed_item("BAD", currency="ZZZ")]))
    out, err = run_import(str(path), "--account", account.waba_id)
    assert "\r  1/3 items" in out and "\r  3/3 items" in out
    assert "created 2, updated 0, unchanged 0, deactivated 0, errors 1" in out
    assert "BAD" in err and "currency" in err
    assert SyncRun.objects.get().source == f"import:{path}"


def test_import_of_a_csv_file_by_extension(tmp_path):
    account = BusinessAccountFactory()
    path = tmp_path / "feed.csv"
    path.write_text(CSV_FEED)
    out, _ = run_import(str(path), "--account", account.waba_id)
    assert "created 2" in out
    assert Variant.objects.get(sku="ABY-1-S").attributes == {"size": "S", "colour": "Black"}


def test_import_of_a_missing_file_is_a_clear_error(tmp_path):
    account = BusinessAccountFactory()
    with pytest.raises(CommandError, match="Cannot read"):
        run_import(str(tmp_path / "nope.json"), "--account", account.waba_id)
    assert not SyncRun.objects.exists()


def test_import_of_bad_json_stores_nothing(tmp_path):
    account = BusinessAccountFactory()
    path = tmp_path / "feed.json"
    path.write_text('[{"sku": "A-1"')
    with pytest.raises(CommandError, match="not valid JSON"):
        run_import(str(path), "--account", account.waba_id, "--format", "json")
    assert not SyncRun.objects.exists() and not Variant.objects.exists()


def test_import_for_an_unknown_account_is_a_clear_error(tmp_path):
    path = tmp_path / "feed.json"
    path.write_text("[]")
    with pytest.raises(CommandError, match="No business account"):
        run_import(str(path), "--account", "123")
