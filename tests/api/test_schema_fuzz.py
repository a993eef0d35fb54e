"""Schemathesis against the live /api/schema/: every operation the schema lists, whichever app serves it.

Each run is bounded (a few examples per operation, a fixed seed, one worker) and prints its figures:
operations, test cases, requests, seconds and the statuses each operation answered; the details of
any failure, with a curl command that reproduces it, are in the st.log the summary names.
"""

import pytest

from tests.support.api import api_key
from tests.support.api_world import account_snapshot, other_shop_seed, shop_seed
from tests.support.schemathesis_run import fuzz_run

# Without all checks: an account's objects are the other key's 404s, which `positive_data_acceptance`
# would count as valid data refused; these checks hold for any key.
SCHEMA_CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


@pytest.fixture
def live_api(transactional_db, settings, live_server):
    """The live server, with room for a fuzzer's requests and Stripe's and Meta's stand-ins on it."""
    settings.WACO_API_RATE_PER_MINUTE = 1_000_000
    settings.WACO_PUBLIC_URL = live_server.url
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_GRAPH_API_BASE = f"{live_server.url}/sandbox/graph"
    return live_server


def test_every_operation_reaches_a_2xx_and_keeps_to_its_schema_with_a_key_holding_every_scope(live_api, tmp_path):
    world = shop_seed()
    _, raw = api_key()  # every scope, every account (the shop's only one)

    run = fuzz_run(live_api.url, raw, world.identifiers(), tmp_path, max_examples=20)

    print(run.summary())
    assert run.operations, "the schema lists no /api/v1/ operation"
    problems = {
        "server errors": run.server_errors(),
        "failed checks": run.failures(),
        "operations that never answered 2xx": run.without_2xx(),
    }
    assert {name: found for name, found in problems.items() if found} == {}, run.summary()


def test_a_key_limited_to_another_account_sees_nothing_of_the_first_and_keeps_to_the_schema(live_api, tmp_path):
    world = shop_seed()
    other = other_shop_seed()
    # Contacts are the merchant's: the other account's key may write them (tests/api/test_other_account.py).
    before = account_snapshot(world.account)
    _, raw = api_key(accounts=[other.account])

    # The first account's identifiers in every path, query and body field that names an object.
    run = fuzz_run(live_api.url, raw, world.identifiers(), tmp_path, checks=SCHEMA_CHECKS, max_examples=10)

    print(run.summary())
    problems = {
        "server errors": run.server_errors(),
        "failed checks": run.failures(),
        "2xx answers showing the first account's objects": run.revealing(world.private_strings),
    }
    assert {name: found for name, found in problems.items() if found} == {}, run.summary()
    assert account_snapshot(world.account) == before
