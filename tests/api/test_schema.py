import io

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.support.openapi import deref, schema_operations
from waco.api.scopes import SCOPES

PROBLEMS = {"401", "403", "404", "409", "422", "429"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Lists that page otherwise than by `cursor`, and why. The event feed pages by event id: a receiver
# back from an outage resumes from the last id it holds (`after`), which a cursor could not be.
KEYSET_PAGES = {"/api/v1/events": "after"}


@pytest.fixture
def probe_schema(settings):
    """waco.api alone, on small views (tests/api/probe_urls.py): an ApiView, a viewset, a scope per method."""
    settings.ROOT_URLCONF = "tests.api.probe_urls"
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def served_schema(db):
    """The schema /api/schema/ serves: every operation of /api/v1/ that exists, whoever wrote it."""
    answer = Client().get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    schema = answer.json()
    assert len(schema_operations(schema)) > 20  # the real API, not an empty document that passes everything
    return schema


def operations(schema):
    for operation in schema_operations(schema):
        yield operation.label, operation.method.upper(), operation.spec


def problems_wrong(method: str, operation: dict) -> list[str]:
    """The problem responses the operation lacks, or lists without the Problem body."""
    problems = PROBLEMS | ({"400", "413"} if method in ("POST", "PUT", "PATCH", "DELETE") else set())
    responses = operation["responses"]
    return sorted(code for code in problems if responses.get(code, {}).get("content") != PROBLEM_CONTENT)


def page_wrong(schema: dict, path: str, operation: dict) -> str | None:
    """Why the list operation is not a cursor page (None when it is): results with next (and previous)
    links in the answer, its cursor and `limit` among the query parameters."""
    cursor = KEYSET_PAGES.get(path, "cursor")
    links = {"next"} if path in KEYSET_PAGES else {"next", "previous"}
    page = deref(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    properties = page.get("properties", {})
    if not links | {"results"} <= set(properties) or deref(schema, properties["results"]).get("type") != "array":
        return f"answers {sorted(properties) or page.get('type')}, not a page of results with {sorted(links)}"
    parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if not {cursor, "limit"} <= parameters:
        return f"takes {sorted(parameters)}, not {cursor} and limit"
    return None


def test_every_operation_lists_the_problems_with_their_schema(probe_schema):
    for name, method, operation in operations(probe_schema):
        assert problems_wrong(method, operation) == [], name
    assert set(probe_schema["components"]["schemas"]["Problem"]["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "errors",
    }


def test_every_served_operation_lists_the_problems_with_their_schema(served_schema):
    wrong = {
        name: codes
        for name, method, operation in operations(served_schema)
        if (codes := problems_wrong(method, operation))
    }
    assert wrong == {}
    assert set(served_schema["components"]["schemas"]["Problem"]["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "errors",
    }


def test_every_operation_needs_the_bearer_key_and_names_its_scope(probe_schema):
    assert probe_schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": probe_schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    scopes = {name: operation["description"] for name, _, operation in operations(probe_schema)}
    assert scopes["GET /api/v1/accounts"].endswith("Scope: `catalog:read`")
    assert scopes["POST /api/v1/accounts"].endswith("Scope: `catalog:write`")
    assert scopes["PUT /api/v1/accounts/{waba_id}"].endswith("Scope: `messages:send`")
    assert all(operation["security"] == [{"ApiKey": []}] for _, _, operation in operations(probe_schema))


def test_every_served_operation_needs_the_bearer_key_and_names_a_scope(served_schema):
    assert served_schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    named = {f"Scope: `{scope}`" for scope in SCOPES}
    wrong = {
        name: (operation.get("security"), operation.get("description", "")[-40:])
        for name, _, operation in operations(served_schema)
        if operation.get("security") != [{"ApiKey": []}]
        or not any(operation.get("description", "").endswith(scope) for scope in named)
    }
    assert wrong == {}


def test_list_operations_are_cursor_pages(probe_schema):
    response = probe_schema["paths"]["/api/v1/accounts"]["get"]["responses"]["200"]
    page = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = probe_schema["components"]["schemas"][page]["properties"]
    assert {"next", "previous", "results"} <= set(properties)
    parameters = {p["name"] for p in probe_schema["paths"]["/api/v1/accounts"]["get"]["parameters"]}
    assert {"cursor", "limit"} <= parameters


def test_every_served_list_operation_is_a_cursor_page(served_schema):
    """A GET of a collection (its path does not end in an object's id) answers a page, never a bare list."""
    lists = [op for op in schema_operations(served_schema) if op.method == "get" and not op.path.endswith("}")]
    assert {"/api/v1/orders", "/api/v1/products", "/api/v1/messages", "/api/v1/threads/{thread_id}/messages"} <= {
        op.path for op in lists
    }
    wrong = {op.label: why for op in lists if (why := page_wrong(served_schema, op.path, op.spec))}
    assert wrong == {}


@pytest.mark.django_db
def test_the_schema_and_docs_are_served_without_a_key():
    client = Client()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_the_whole_schema_validates_without_a_warning(tmp_path):
    """Every endpoint that exists, whoever wrote it: no warning, no error, a valid OpenAPI document."""
    out = tmp_path / "schema.yaml"
    stderr = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=stderr)
    assert out.stat().st_size > 0, stderr.getvalue()
