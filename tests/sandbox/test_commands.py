"""Seeding the sandbox and running it as its own process."""

import subprocess
import sys

import pytest
from django.core.management import call_command

from waco.sandbox.models import BusinessAccount, PhoneNumber
from waco.sandbox.services import sandbox_seed

SEED = [
    "--waba-id",
    "9001",
    "--phone-number-id",
    "9002",
    "--display-phone-number",
    "15550009002",
    "--access-token",
    "tok",
]


@pytest.mark.django_db
def test_sandbox_seed_command_is_idempotent():
    call_command("sandbox_seed", *SEED, "--catalog-id", "77")
    call_command("sandbox_seed", *SEED, "--catalog-id", "77", "--verified-name", "Renamed Shop")
    number = PhoneNumber.objects.get()
    assert (number.phone_number_id, number.verified_name, number.account.waba_id) == (
        "9002",
        "Renamed Shop",
        "9001",
    )
    assert BusinessAccount.objects.get().catalog_id == "77"


@pytest.mark.django_db
def test_sandbox_seed_service_updates_the_token():
    sandbox_seed(waba_id="1", phone_number_id="2", display_phone_number="3", access_token="old")
    sandbox_seed(waba_id="1", phone_number_id="2", display_phone_number="3", access_token="new")
    assert BusinessAccount.objects.get().access_token == "new"


def test_python_dash_m_names_its_commands():
    result = subprocess.run([sys.executable, "-m", "waco.sandbox"], capture_output=True, text=True)
    assert result.returncode != 0 and "serve|deliver|seed" in result.stderr
