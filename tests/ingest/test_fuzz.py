import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.webhooks import WEBHOOK_FILES, post_webhook
from waco.ingest import services
from waco.ingest.models import Delivery

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)
# Bodies that pass the envelope check, so the fuzz reaches storage and the worker.
envelopes = st.fixed_dictionaries(
    {"object": st.just("whatsapp_business_account"), "entry": json_values}
) | st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "id": json_values,
                    "changes": st.lists(
                        st.fixed_dictionaries(
                            {
                                "field": st.sampled_from(["messages", "user_preferences", "calls", "x"]),
                                "value": json_values,
                            }
                        ),
                        max_size=3,
                    ),
                }
            ),
            max_size=2,
        ),
    }
)
REAL_BODIES = [json.loads(p.read_text()) for p in WEBHOOK_FILES]


def mutate(body, replacement, path_choice: int):
    """Replace one node of a real body (picked by path_choice) with `replacement`."""
    nodes = []

    def walk(node):
        if isinstance(node, dict):
            for key in node:
                nodes.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                nodes.append((node, index))
                walk(node[index])

    walk(body)
    parent, key = nodes[path_choice % len(nodes)]
    parent[key] = replacement
    return body


fuzz_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.django_db
@fuzz_settings
@given(raw=st.binary(max_size=300))
def test_the_view_never_fails_on_arbitrary_bytes(client, raw):
    assert post_webhook(client, raw).status_code in (200, 400)


@pytest.mark.django_db
@fuzz_settings
@given(body=json_values | envelopes)
def test_the_view_and_the_worker_never_fail_on_arbitrary_json(client, body):
    response = post_webhook(client, json.dumps(body).encode())
    assert response.status_code in (200, 400)
    for delivery in Delivery.objects.filter(status="pending"):
        services.delivery_process(delivery_id=delivery.pk)  # must not raise


@pytest.mark.django_db
@fuzz_settings
@given(index=st.integers(0, len(REAL_BODIES) - 1), replacement=json_values, path_choice=st.integers(0, 10_000))
def test_the_worker_never_fails_on_mutated_real_payloads(client, index, replacement, path_choice):
    body = mutate(json.loads(json.dumps(REAL_BODIES[index])), replacement, path_choice)
    response = post_webhook(client, json.dumps(body).encode())
    assert response.status_code in (200, 400)
    for delivery in Delivery.objects.filter(status="pending"):
        assert services.delivery_process(delivery_id=delivery.pk).failed == 0, Delivery.objects.get(
            pk=delivery.pk
        ).last_error
