import pytest
from rest_framework.exceptions import ValidationError

from tests.support.api import ApiClient, api_key
from waco.api.problems import pointer_errors

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]


@pytest.fixture
def client():
    return ApiClient(api_key()[1])


def test_field_errors_are_422_with_json_pointers(client):
    response = client.post("/api/v1/accounts", {"name": "", "waba_id": "12a", "tags": ["ok", "toolong"]})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["status"] == 422
    pointers = {error["pointer"] for error in problem["errors"]}
    assert pointers == {"/name", "/waba_id", "/tags/1"}


def test_malformed_json_is_400(client):
    response = client.generic("POST", "/api/v1/accounts", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Bad Request"


def test_an_unknown_object_is_404_problem(client):
    response = client.get("/api/v1/accounts/404404")
    assert response.status_code == 404
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not found."}


def test_a_problem_raised_by_a_view_keeps_its_status_and_detail(client):
    response = client.post("/api/v1/failing", {"problem": 409})
    assert response.status_code == 409
    assert response.json()["detail"] == "As asked."


def test_a_method_the_view_lacks_is_405_problem(client):
    response = client.delete("/api/v1/accounts")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_pointers_follow_nested_lists_and_objects_and_escape_names():
    detail = ValidationError(
        {"levels": [{}, {"sku": ["Unknown."]}], "a/b~c": ["Bad."], "non_field_errors": ["Whole body."]}
    ).detail
    assert pointer_errors(detail) == [
        {"pointer": "/levels/1/sku", "detail": "Unknown."},
        {"pointer": "/a~1b~0c", "detail": "Bad."},
        {"pointer": "", "detail": "Whole body."},
    ]
    assert pointer_errors(ValidationError([{"sku": ["Missing."]}]).detail) == [
        {"pointer": "/0/sku", "detail": "Missing."}
    ]


@pytest.mark.urls("waco.urls")
@pytest.mark.parametrize("path", ["/api/v1/threads/abc", "/api/v1/messages/-1", "/api/v1/no-such-resource"])
def test_a_path_no_resource_matches_is_a_404_problem_not_an_html_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"
