"""parse_delivery never raises: on arbitrary JSON-like values, on envelopes with garbage
values, and on real fixtures with random leaves and keys replaced.

The parser's last-resort guard (a "parser error" UnsupportedEvent) must never be
what saved it: every wrong shape is handled where it is read.
"""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.payloads import load, webhook_files
from waco.cloud_api.events import EVENT_KINDS, Event, UnsupportedEvent
from waco.cloud_api.webhooks import DOCUMENTED_FIELDS, parse_delivery, parse_delivery_bytes

FIXTURES = [load(path) for path in webhook_files()]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: huge timestamps and quantities
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "1697043223", "-1", "9" * 400, "text", "interactive", "failed", "sent"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=40,
)
fields = st.sampled_from(sorted(DOCUMENTED_FIELDS)) | st.text(max_size=20) | json_values

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(events):
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, Event)
        assert event.kind in EVENT_KINDS
        assert isinstance(event.dedupe_key, str) and event.dedupe_key
        assert repr(event)
        if isinstance(event, UnsupportedEvent):
            assert not event.reason.startswith("parser error"), event.reason


@FUZZ
@given(json_values)
def test_arbitrary_json_values_never_raise(value):
    assert_well_formed(parse_delivery(value))


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(raw):
    assert_well_formed(parse_delivery_bytes(raw))


@FUZZ
@given(
    waba_id=json_values,
    time=json_values,
    field=fields,
    value=json_values,
)
def test_envelopes_with_garbage_values_never_raise(waba_id, time, field, value):
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": time, "changes": [{"field": field, "value": value}]}],
    }
    assert_well_formed(parse_delivery(body))


@FUZZ
@given(field=st.sampled_from(sorted(DOCUMENTED_FIELDS)), items=st.lists(json_values, max_size=4))
def test_documented_fields_with_garbage_items_never_raise(field, items):
    keys = ("messages", "statuses", "errors", "contacts", "message_echoes", "user_preferences", "calls")
    value = {key: items for key in keys}
    value["metadata"] = {"phone_number_id": items[0] if items else None}
    change = {"field": field, "value": value}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    assert_well_formed(parse_delivery(body))


def _paths(node, prefix=()):
    """Every (path, node) below `node`, containers included."""
    yield prefix, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _mutate(body, path, action, replacement, new_key):
    if not path:
        return replacement
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = replacement
    elif action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[new_key] = parent.pop(last)
    return body


@FUZZ
@given(st.data())
def test_real_fixtures_with_random_leaves_and_keys_replaced_never_raise(data):
    body = copy.deepcopy(data.draw(st.sampled_from(FIXTURES), label="fixture"))
    for _round in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = [path for path, _node in _paths(body)]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(["replace", "delete", "rename"]), label="action")
        replacement = data.draw(json_values, label="replacement")
        new_key = data.draw(st.text(max_size=12), label="new key")
        body = _mutate(body, path, action, replacement, new_key)
    assert_well_formed(parse_delivery(body))


def test_huge_numbers_and_deep_nesting_are_survived():
    body = copy.deepcopy(next(f for f in FIXTURES if "order" in str(f)))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = 10**30
    message["order"]["product_items"][0]["quantity"] = 10**400
    message["order"]["product_items"][0]["item_price"] = "1e999999999"
    deep = current = {}
    for _level in range(5000):
        current["context"] = {}
        current = current["context"]
    message["context"] = deep
    events = parse_delivery(body)
    assert_well_formed(events)
    item = events[0].content.product_items[0]
    assert (events[0].timestamp, item.item_price) == (None, None)
