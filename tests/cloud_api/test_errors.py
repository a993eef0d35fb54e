"""Graph error codes map to the classes of the table in docs/cloud-api.md; every error object parses."""

import re

import pytest

from tests.support.payloads import CLOUD_API_MD, graph_files, load
from waco.cloud_api import errors
from waco.cloud_api.errors import (
    AuthError,
    ErrorClass,
    GraphError,
    UnclassifiedError,
    WindowClosedError,
    classify,
    error_from_graph,
    parse_error_detail,
)


def documented_codes() -> list[tuple[int, str]]:
    """(code, class) pairs read from the error table of docs/cloud-api.md, ranges expanded."""
    pairs = []
    for line in CLOUD_API_MD.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] not in {c.value for c in ErrorClass}:
            continue
        codes = re.sub(r"\([^)]*\)", "", cells[1])  # "(more than 24 h ...)" is prose
        for low, high in re.findall(r"\b(\d+)-(\d+)\b", codes):
            pairs += [(code, cells[0]) for code in range(int(low), int(high) + 1)]
        codes = re.sub(r"\b\d+-\d+\b", "", codes)
        pairs += [(int(code), cells[0]) for code in re.findall(r"\b\d+\b", codes)]
    return pairs


DOCUMENTED = documented_codes()


def test_the_table_of_cloud_api_md_is_read():
    classes = {error_class for _code, error_class in DOCUMENTED}
    assert classes == {c.value for c in ErrorClass} - {"unclassified"}
    assert len(DOCUMENTED) > 130  # 200-299 alone is a hundred


@pytest.mark.parametrize(("code", "error_class"), DOCUMENTED, ids=[f"{c}-{k}" for c, k in DOCUMENTED])
def test_every_documented_code_maps_to_its_class(code, error_class):
    assert classify(code) == error_class
    assert classify(str(code)) == error_class


def test_the_code_table_has_nothing_the_document_lacks():
    assert set(errors.ERROR_CODE_CLASSES.items()) == {(c, ErrorClass(k)) for c, k in DOCUMENTED}


@pytest.mark.parametrize("code", [200, 250, 299])
def test_permission_range_is_auth(code):
    assert classify(code) == ErrorClass.AUTH


@pytest.mark.parametrize("code", [999999, 131053, 130472, 199, 300, -1, None, "abc", True, 1.5, 10**40])
def test_codes_outside_the_table_are_unclassified(code):
    assert classify(code) == ErrorClass.UNCLASSIFIED


def test_each_class_has_an_exception_subclass_to_catch():
    for error_class in ErrorClass:
        cls = errors.EXCEPTION_BY_CLASS[error_class]
        assert issubclass(cls, GraphError) and cls.error_class == error_class


@pytest.mark.parametrize("path", graph_files(), ids=[p.stem for p in graph_files()])
def test_every_graph_error_file_parses_to_its_typed_error(path):
    obj = load(path)
    error = error_from_graph(obj, http_status=400)
    assert isinstance(error, GraphError)
    assert error.code == obj["code"]
    assert error.error_class == classify(obj["code"])
    assert error.details == obj.get("error_data", {}).get("details")
    assert error.http_status == 400
    # The wrapped form, as a send answers, reads the same.
    wrapped = error_from_graph({"error": obj})
    assert (type(wrapped), wrapped.code, wrapped.details) == (type(error), error.code, error.details)


def test_expired_token_is_auth_with_subcode_and_trace_id():
    error = error_from_graph(load(next(p for p in graph_files() if "190" in p.name)))
    assert isinstance(error, AuthError)
    assert (error.subcode, error.type) == (463, "OAuthException")
    assert error.fbtrace_id == "ACEyrTehk6IAd0lm05Ixogh"
    assert not error.retryable


def test_reengagement_error_is_window_closed():
    error = error_from_graph(load(next(p for p in graph_files() if "131047" in p.name)))
    assert isinstance(error, WindowClosedError)
    assert "24 hours" in error.details


def test_media_upload_error_is_unclassified_but_keeps_its_details():
    detail = parse_error_detail(load(next(p for p in graph_files() if "131053" in p.name)))
    assert (detail.code, detail.title, detail.error_class) == (131053, "Media upload error", "unclassified")
    assert detail.details.startswith("Downloading media from weblink failed")


@pytest.mark.parametrize("obj", [None, [], "x", 42, {"error": "str"}, {"code": "x"}, {"error": {"code": []}}])
def test_garbage_error_objects_become_unclassified_without_raising(obj):
    error = error_from_graph(obj)
    assert isinstance(error, UnclassifiedError)
    assert str(error)


def test_retry_semantics_follow_the_class_and_whether_the_request_left():
    rate = errors.RateLimitError("slow down", code=130429)
    unknown = errors.TransientError("read timeout", may_have_left=True)
    assert rate.retryable and rate.safe_to_resend
    assert unknown.retryable and not unknown.safe_to_resend
    assert not errors.TemplateError("paused", code=132015).retryable
    assert errors.RateLimitError("pair", code=131056).is_pair_rate_limit


def test_error_dict_is_json_safe_for_dead_letters():
    error = error_from_graph({"error": {"code": 131026, "message": "Undeliverable", "fbtrace_id": "A"}})
    assert error.as_dict()["error_class"] == "recipient"
    assert error.as_dict()["fbtrace_id"] == "A"
