"""The OpenAPI document of /api/v1/ read generically: its operations, and which of their path, query and
body fields name an object (so tests can aim them at real ones), for the API-wide tests in tests/api/.
"""

import re
from dataclasses import dataclass

import requests

API_PREFIX = "/api/v1/"
METHODS = ("get", "put", "post", "patch", "delete")
# Body and query fields that name an object, by field name -> the world's resource (ApiWorld.identifiers).
FIELD_RESOURCES = {
    "sku": "skus",
    "external_id": "products",
    "account": "accounts",
    "accounts": "accounts",
    "contact": "contacts",
    "to": "contacts",
    "from": "numbers",
    "reference": "orders",
    "purpose": "purposes",
    "template": "templates",
    "template_name": "templates",
}


@dataclass
class Operation:
    method: str
    path: str
    spec: dict

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def matches(self, method: str, path: str) -> bool:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.path))
        return method.upper() == self.method.upper() and re.fullmatch(pattern, path) is not None


def schema_fetch(base_url: str) -> dict:
    response = requests.get(f"{base_url}/api/schema/", params={"format": "json"}, timeout=30)
    response.raise_for_status()
    return response.json()


def schema_operations(schema: dict) -> list[Operation]:
    """The operations of /api/v1/ (the schema also describes /api/schema/ itself)."""
    return [
        Operation(method, path, spec)
        for path, item in schema.get("paths", {}).items()
        for method, spec in item.items()
        if method in METHODS and path.startswith(API_PREFIX)
    ]


def deref(schema: dict, node):
    """Follow `$ref` (and allOf with one member, as drf-spectacular writes) to the schema object."""
    while isinstance(node, dict):
        if "$ref" in node:
            target = schema
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node
    return node


def body_fields(schema: dict, node, prefix: str, depth: int = 0):
    """(binding key, field name, JSON type) for each named field of a request body, lists as `[*]`."""
    node = deref(schema, node)
    if not isinstance(node, dict) or depth > 4:
        return
    if node.get("type") == "array" or "items" in node:
        yield from body_fields(schema, node.get("items", {}), f"{prefix}[*]", depth + 1)
        return
    for name, prop in node.get("properties", {}).items():
        prop = deref(schema, prop)
        key = f"{prefix}.{name}"
        json_type = prop.get("type", "string") if isinstance(prop, dict) else "string"
        if json_type == "array":  # a list of identifiers (`accounts`): its items are what is bound
            items = deref(schema, prop.get("items", {}))
            yield f"{key}[*]", name, items.get("type", "object") if isinstance(items, dict) else "object"
        else:
            yield key, name, json_type
        yield from body_fields(schema, prop, key, depth + 1)


def resource_of_path_parameter(path: str, name: str) -> str | None:
    """The resource a path parameter names: the segment before it (`/products/{external_id}` -> products)."""
    segments = path.strip("/").split("/")
    index = segments.index(f"{{{name}}}")
    return segments[index - 1] if index > 0 else None
