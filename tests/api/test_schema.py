import io

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

PROBLEMS = {"401", "403", "404", "409", "422", "429"}


@pytest.fixture
def probe_schema(settings):
    settings.ROOT_URLCONF = "tests.api.probe_urls"
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method.upper(), operation


def test_every_operation_lists_the_problems_with_their_schema(probe_schema):
    for name, method, operation in operations(probe_schema):
        problems = PROBLEMS | ({"400", "413"} if method in ("POST", "PUT", "PATCH", "DELETE") else set())
        assert problems <= set(operation["responses"]), name
        for code in problems:
            content = operation["responses"][code]["content"]
            assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert set(probe_schema["components"]["schemas"]["Problem"]["properties"]) == {
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


def test_list_operations_are_cursor_pages(probe_schema):
    response = probe_schema["paths"]["/api/v1/accounts"]["get"]["responses"]["200"]
    page = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = probe_schema["components"]["schemas"][page]["properties"]
    assert {"next", "previous", "results"} <= set(properties)
    parameters = {p["name"] for p in probe_schema["paths"]["/api/v1/accounts"]["get"]["parameters"]}
    assert {"cursor", "limit"} <= parameters


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
