"""Every operation of /api/v1/, called with a key limited to another business account on the first
account's objects, answers 404 (a list: empty) and changes nothing.

The operations come from the schema, so an endpoint added later is covered without a line here: its
path parameters take the first account's identifiers, and its documented request example has each
field that names an object (account, number, SKU, product, order...) set to the first account's.
"""

import json
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from tests.support.api import ApiClient, api_key
from tests.support.api_world import account_snapshot, contacts_snapshot, other_shop_seed, shop_seed
from tests.support.openapi import FIELD_RESOURCES, deref, resource_of_path_parameter, schema_operations

# Contacts belong to the merchant, not to an account (issue 16: "objects owned by a business account
# (products, orders, messages, templates)"): any key finds them, but sees only its own accounts' windows.
MERCHANT_WIDE = {"contacts"}
# Fields that say which account or number a write goes to (optional: a key seeing one account needs none).
SCOPING = {"accounts", "numbers"}
# Per-item results of a batch that wrote or found something.
ITEM_SUCCESSES = {"applied", "created", "updated", "unchanged", "stale", "archived"}


def api_schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


SCHEMA = api_schema()
OPERATIONS = schema_operations(SCHEMA)


def aimed(value, node, targets: dict[str, list], position: int | None = None):
    """`value` (a request example) with every field that names an object set to one of `targets`'
    identifiers (the n-th item of a list gets the n-th, so a product's variants keep distinct SKUs).

    The scoping fields are added where the example leaves them out: `account` and `from` where the schema
    declares them, and `account` in the free-form items of a batch (each item as the single write's body).
    """
    node = deref(SCHEMA, node) or {}
    if isinstance(value, list):
        return [aimed(item, node.get("items", {}), targets, index) for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    properties = node.get("properties", {})
    aimed_value = {name: aimed(item, properties.get(name, {}), targets) for name, item in value.items()}
    batch_item = position is not None and not properties
    for name, resource in FIELD_RESOURCES.items():
        ids = targets.get(resource)
        added = (name in properties and resource in SCOPING) or (batch_item and resource == "accounts")
        if ids and (name in value or added):
            identifier = str(ids[(position or 0) % len(ids)])
            is_list = isinstance(value.get(name), list) or properties.get(name, {}).get("type") == "array"
            aimed_value[name] = [identifier] if is_list else identifier
    return aimed_value


def request_example(operation) -> dict | None:
    content = operation.spec.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    examples = content.get("examples", {})
    assert examples, f"{operation.label} documents no request example"
    return next(iter(examples.values()))["value"]


def answer_items(body) -> list | None:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    return None


def resources_of(operation) -> set[str]:
    return {
        resource_of_path_parameter(operation.path, p["name"])
        for p in operation.spec.get("parameters", [])
        if p["in"] == "path"
    }


def aimed_request(operation, targets: dict[str, list]) -> tuple[str, dict, dict | None]:
    """The operation's path, query and body (its documented example) aimed at `targets`' objects."""
    path = operation.path
    for parameter in operation.spec.get("parameters", []):
        if parameter["in"] == "path":
            resource = resource_of_path_parameter(operation.path, parameter["name"])
            path = path.replace(f"{{{parameter['name']}}}", str(targets[resource][0]))
    query = {
        p["name"]: str(targets[FIELD_RESOURCES[p["name"]]][0])
        for p in operation.spec.get("parameters", [])
        if p["in"] == "query" and FIELD_RESOURCES.get(p["name"]) in targets
    }
    example = request_example(operation)
    schema = operation.spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return path, query, aimed(example, schema, targets) if example is not None else None


def not_refused(operation, response) -> str | None:
    """Why the answer is not "there is nothing of that account here" (404, or a 200 with nothing in it)."""
    if response.status_code == 404:
        return None
    items = answer_items(response.json() if response.content else None)
    if response.status_code == 200 and items is not None:
        if operation.method == "get":
            return f"lists {items}" if items else None
        written = [item for item in items if item.get("result") in ITEM_SUCCESSES]
        return f"wrote {written}" if written else None
    return f"answered {response.status_code} {response.content[:300]!r}, not 404"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_a_key_of_another_account_finds_nothing_of_the_first_and_changes_nothing(db, operation):
    world, other = shop_seed(), other_shop_seed()
    _, raw = api_key(accounts=[other.account])
    path, query, body = aimed_request(
        operation, {resource: ids for resource, ids in world.identifiers().items() if ids}
    )
    merchant_wide = bool(resources_of(operation) & MERCHANT_WIDE) or operation.path.endswith("/contacts/batch")

    def unchangeable():
        """Both accounts' rows, and the contacts unless the operation is one that writes them."""
        contacts = None if merchant_wide else contacts_snapshot()
        return account_snapshot(world.account), account_snapshot(other.account), contacts

    before = unchangeable()

    client = ApiClient(raw)
    if operation.method == "get":
        response = client.get(path, query)
    else:
        response = getattr(client, operation.method)(f"{path}?{urlencode(query)}" if query else path, body)

    sent = json.dumps(body) + path + json.dumps(query)
    shown = [s for s in world.private_strings if s in response.content.decode() and s not in sent]
    assert shown == [], f"{operation.label} shows the first account's {shown}"
    if merchant_wide:
        assert response.status_code < 500
        assert response.json().get("windows", []) == [], "the first account's service windows shown"
    else:
        refusal_missing = not_refused(operation, response)
        assert refusal_missing is None, f"{operation.label} {refusal_missing}"
    assert unchangeable() == before, f"{operation.label} changed rows"
