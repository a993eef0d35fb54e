"""README's "Connect your storefront" examples, run as written against a live server: the key comes from
its `manage.py apikey_create` line, then each curl block runs with real curl.

Each curl block is followed in the README by the JSON it answers (abridged): the answer must be a 2xx
holding at least those fields, with values of the same JSON types.
"""

import json
import re
import shlex
import shutil
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from checkout.models import OrderStatus
from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.checkout.factories import approved_chain, paid_order
from tests.contacts.factories import ContactFactory
from tests.support.api_world import purposes_seed
from waco.contacts import services as contacts

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Connect your storefront"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
# The identifiers the README's examples name.
ORDER, CUSTOMER = "W0001234", "971501230077"


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block of the section."""
    text = README.read_text()
    section = text[text.index(SECTION) :]
    return FENCE.findall(section[: section.index("\n## ", len(SECTION))])


def readme_key_created() -> str:
    """Run the section's `manage.py apikey_create ...` line as written; returns the key it prints."""
    [code] = [code for language, code in readme_blocks() if language == "sh" and "manage.py apikey_create" in code]
    lines = [line for line in code.replace("\\\n", " ").splitlines() if not line.lstrip().startswith("#")]
    [line] = [line for line in lines if "manage.py" in line]
    arguments = shlex.split(line.split("manage.py", 1)[1])
    out = StringIO()
    call_command(*arguments, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def readme_examples() -> list[tuple[str, object]]:
    """(curl command, the JSON the README shows it answering), in the README's order."""
    blocks = readme_blocks()
    examples = []
    for (language, code), (next_language, answer) in zip(blocks, blocks[1:], strict=False):
        if language == "sh" and code.lstrip().startswith("curl"):
            assert next_language == "json", f"no JSON answer documented after:\n{code}"
            examples.append((code, json.loads(answer)))
    return examples


def shape_differences(documented, actual, pointer: str = "") -> list[str]:
    """Where `actual` lacks a field of `documented` or holds another JSON type (null documents any)."""
    if documented is None:
        return []
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{pointer or '/'}: an object expected, got {actual!r}"]
        return [
            difference
            for name, value in documented.items()
            for difference in (
                shape_differences(value, actual[name], f"{pointer}/{name}")
                if name in actual
                else [f"{pointer}/{name}: missing"]
            )
        ]
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{pointer}: a list expected, got {actual!r}"]
        if documented and not actual:
            return [f"{pointer}: an empty list, the README shows items"]
        return shape_differences(documented[0], actual[0], f"{pointer}/0") if documented else []
    same_type = isinstance(actual, type(documented)) and isinstance(actual, bool) == isinstance(documented, bool)
    return [] if same_type else [f"{pointer}: {type(documented).__name__} expected, got {actual!r}"]


@pytest.fixture
def storefront_shop(transactional_db, settings, live_server):
    """What the examples name: a shop with a number, the customer (in their window, consenting to updates),
    the packed order W0001234 and approved templates for the order_update purpose."""
    settings.WACO_PUBLIC_URL = live_server.url
    purposes_seed()
    account = BusinessAccountFactory()
    number = PhoneNumberFactory(business_account=account)
    customer = ContactFactory(wa_id=CUSTOMER, profile_name="Amal")
    contacts.window_touch(contact=customer, phone_number=number, inbound_at=timezone.now() - timedelta(hours=1))
    order = paid_order(reference=ORDER, phone_number=number, contact=customer, status=OrderStatus.PACKED)
    approved_chain(account, "order_update", "order_update_v1")
    approved_chain(account, "delivery_update", "delivery_update_v1")
    return order


def test_the_readme_curl_examples_answer_as_documented(storefront_shop, live_server, tmp_path):
    assert shutil.which("curl"), "the README's examples need curl"
    examples = readme_examples()
    assert len(examples) >= 6, "the README lost some of its storefront examples"
    raw = readme_key_created()
    # curl reads $HOME/.curlrc: the status after the body, without touching the README's commands.
    (tmp_path / ".curlrc").write_text('write-out = "\\n%{http_code}"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WACO_URL": live_server.url, "WACO_KEY": raw}

    for command, documented in examples:
        result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        body, _, status = result.stdout.rpartition("\n")
        assert 200 <= int(status) < 300, f"{command}\n-> {status} {body}"
        assert shape_differences(documented, json.loads(body)) == [], f"{command}\n-> {body}"
