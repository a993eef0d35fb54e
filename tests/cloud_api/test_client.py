"""The Graph client against a stubbed Graph API (responses) and, for the network
failures whose outcome matters, against real sockets on localhost."""

import json
import socket
import threading

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from waco.cloud_api import client as client_module
from waco.cloud_api import errors
from waco.cloud_api.client import GraphClient, get_session

BASE = "https://graph.example.test"
VERSION = "v24.0"
PHONE = "106540352242922"
TOKEN = "EAAG-test-token"
MESSAGES_URL = f"{BASE}/{VERSION}/{PHONE}/messages"
TEXT = {"to": "16505551234", "type": "text", "text": {"body": "hi"}}


@pytest.fixture(autouse=True)
def graph_settings(settings):
    settings.WACO_GRAPH_API_BASE = BASE
    settings.WACO_GRAPH_API_VERSION = VERSION


@pytest.fixture
def graph():
    return GraphClient(access_token=TOKEN)


@pytest.fixture
def stub():
    with responses.RequestsMock() as mock:
        yield mock


def graph_error(code, message="error", **extra):
    inner = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Az8"}
    return {"error": {**inner, **extra}}


# --- success ------------------------------------------------------------------------


def test_send_message_parses_wamid_and_recipient(graph, stub):
    stub.post(
        MESSAGES_URL,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
            "messages": [{"id": "wamid.HBgL", "message_status": "accepted"}],
        },
    )
    result = graph.send_message(PHONE, TEXT)
    assert (result.wamid, result.input, result.wa_id, result.message_status) == (
        "wamid.HBgL",
        "16505551234",
        "16505551234",
        "accepted",
    )
    request = stub.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    sent = {"messaging_product": "whatsapp", "recipient_type": "individual", **TEXT}
    assert json.loads(request.body) == sent


def test_base_url_and_version_come_from_settings_or_the_instance(stub, settings):
    settings.WACO_GRAPH_API_BASE = "http://127.0.0.1:8000/sandbox/graph"
    settings.WACO_GRAPH_API_VERSION = "v25.0"
    stub.post(
        "http://127.0.0.1:8000/sandbox/graph/v25.0/1/messages",
        json={"messages": [{"id": "wamid.1"}]},
    )
    stub.post(f"{BASE}/v26.0/1/messages", json={"messages": [{"id": "wamid.2"}]})
    assert GraphClient(access_token=TOKEN).send_message("1", TEXT).wamid == "wamid.1"
    other = GraphClient(access_token=TOKEN, base_url=BASE + "/", version="v26.0")
    assert other.send_message("1", TEXT).wamid == "wamid.2"


def test_mark_read_can_show_the_typing_indicator(graph, stub):
    stub.post(MESSAGES_URL, json={"success": True})
    assert graph.mark_read(PHONE, "wamid.in", typing_indicator=True) is True
    assert json.loads(stub.calls[0].request.body) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.in",
        "typing_indicator": {"type": "text"},
    }


def test_media_url_then_a_streamed_download_with_the_bearer_token(graph, stub):
    media_url = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
    stub.get(
        f"{BASE}/{VERSION}/1234",
        json={"url": media_url, "mime_type": "image/jpeg", "sha256": "abc", "file_size": "3", "id": "1234"},
    )
    stub.get(media_url, body=b"\xff\xd8\xff", content_type="image/jpeg")
    info = graph.get_media_url("1234")
    assert (info.url, info.mime_type, info.file_size) == (media_url, "image/jpeg", 3)
    with graph.open_media(info.url) as stream:
        assert b"".join(stream.chunks()) == b"\xff\xd8\xff"
    assert stub.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_media_stream_reports_its_type_without_parameters_and_its_length(graph, stub):
    stub.get(
        "https://lookaside.example/m",
        body=b"x" * 100,
        content_type="audio/ogg; codecs=opus",
        headers={"Content-Length": "100"},
    )
    with graph.open_media("https://lookaside.example/m") as stream:
        assert (stream.content_type, stream.content_length) == ("audio/ogg", 100)


def test_phone_number_health_fields(graph, stub):
    stub.get(
        f"{BASE}/{VERSION}/{PHONE}",
        json={
            "id": PHONE,
            "display_phone_number": "+1 555-078-3881",
            "quality_rating": "GREEN",
            "throughput": {"level": "STANDARD"},
            "messaging_limit_tier": "TIER_1K",
        },
    )
    info = graph.get_phone_number(PHONE)
    health = (info.quality_rating, info.throughput_level, info.messaging_limit_tier)
    assert health == ("GREEN", "STANDARD", "TIER_1K")
    assert "quality_rating" in stub.calls[0].request.params["fields"]


def test_list_templates_follows_paging_cursors(graph, stub):
    url = f"{BASE}/{VERSION}/waba1/message_templates"
    stub.get(
        url,
        json={"data": [{"name": "a"}], "paging": {"cursors": {"after": "C1"}, "next": url + "?after=C1"}},
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )
    stub.get(
        url,
        json={"data": [{"name": "b"}], "paging": {"cursors": {"after": "C2"}}},
        match=[responses.matchers.query_param_matcher({"limit": "100", "after": "C1"})],
    )
    assert [t["name"] for t in graph.list_templates("waba1")] == ["a", "b"]


def test_create_and_delete_template(graph, stub):
    url = f"{BASE}/{VERSION}/waba1/message_templates"
    stub.post(url, json={"id": "594425479261596", "status": "PENDING", "category": "UTILITY"})
    by_name = responses.matchers.query_param_matcher({"name": "order_shipped"})
    stub.delete(url, json={"success": True}, match=[by_name])
    assert graph.create_template("waba1", {"name": "order_shipped"})["status"] == "PENDING"
    assert graph.delete_template("waba1", "order_shipped") is True


def test_catalog_batch_posts_item_requests(graph, stub):
    stub.post(f"{BASE}/{VERSION}/cat1/items_batch", json={"handles": ["h1"]})
    batch = [{"method": "UPDATE", "data": {"id": "SODA", "price": "10.00 ILS"}}]
    assert graph.catalog_batch("cat1", batch) == {"handles": ["h1"]}
    assert json.loads(stub.calls[0].request.body) == {"item_type": "PRODUCT_ITEM", "requests": batch}


def test_token_never_appears_in_the_repr(graph):
    assert TOKEN not in repr(graph)


# --- Graph error bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        (130429, errors.RateLimitError),
        (131056, errors.RateLimitError),
        (131000, errors.TransientError),
        (131049, errors.RetryLaterError),
        (131047, errors.WindowClosedError),
        (132001, errors.TemplateError),
        (131026, errors.RecipientError),
        (100, errors.InvalidRequestError),
        (190, errors.AuthError),
        (368, errors.IntegrityViolationError),
        (999999, errors.UnclassifiedError),
    ],
)
def test_graph_error_body_raises_its_class(graph, stub, code, exception):
    stub.post(MESSAGES_URL, status=400, json=graph_error(code, error_data={"details": "why"}))
    with pytest.raises(exception) as caught:
        graph.send_message(PHONE, TEXT)
    error = caught.value
    assert (error.code, error.details, error.fbtrace_id, error.http_status) == (code, "why", "Az8", 400)
    assert error.may_have_left is False


def test_5xx_with_a_graph_error_body_is_classified_by_code(graph, stub):
    stub.post(MESSAGES_URL, status=503, json=graph_error(2, "Service temporarily unavailable"))
    with pytest.raises(errors.TransientError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.safe_to_resend


@pytest.mark.parametrize(("status", "body"), [(500, b""), (502, b"<html>Bad Gateway</html>"), (504, b"{}")])
def test_5xx_without_graph_body_is_transient_and_may_have_left(graph, stub, status, body):
    stub.post(MESSAGES_URL, status=status, body=body)
    with pytest.raises(errors.TransientError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.may_have_left and not caught.value.safe_to_resend
    assert caught.value.http_status == status


@pytest.mark.parametrize(
    ("status", "exception"),
    [(429, errors.RateLimitError), (401, errors.AuthError), (404, errors.UnclassifiedError)],
)
def test_4xx_without_graph_body_is_classified_by_status(graph, stub, status, exception):
    stub.post(MESSAGES_URL, status=status, body=b"not json at all")
    with pytest.raises(exception):
        graph.send_message(PHONE, TEXT)


@pytest.mark.parametrize("body", [b"<html>ok</html>", b"[1]", b'{"messages": []}'])
def test_unreadable_success_body_is_an_error_of_unknown_outcome(graph, stub, body):
    stub.post(MESSAGES_URL, status=200, body=body)
    with pytest.raises(errors.UnclassifiedError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.may_have_left


# --- connection failures: did the request leave? --------------------------------------


def refused_error():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason=reason))


@pytest.mark.parametrize(
    "failure",
    [refused_error(), requests.ConnectTimeout("connect timed out")],
    ids=["refused", "connect-timeout"],
)
def test_connection_failure_before_sending_is_transient_and_did_not_leave(graph, stub, failure):
    stub.post(MESSAGES_URL, body=failure)
    with pytest.raises(errors.TransientError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.may_have_left is False
    assert caught.value.safe_to_resend


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
        requests.ConnectionError("unknown"),
    ],
    ids=["read-timeout", "reset-after-send", "unknown"],
)
def test_failure_after_sending_is_an_unknown_outcome(graph, stub, failure):
    stub.post(MESSAGES_URL, body=failure)
    with pytest.raises(errors.TransientError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.may_have_left is True
    assert not caught.value.safe_to_resend


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_refused_connection_did_not_leave():
    graph = GraphClient(access_token=TOKEN, base_url=f"http://127.0.0.1:{free_port()}", version="v24.0")
    with pytest.raises(errors.TransientError) as caught:
        graph.send_message(PHONE, TEXT)
    assert caught.value.may_have_left is False


def test_real_server_that_never_answers_is_a_read_timeout_that_may_have_left():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    port = server.getsockname()[1]
    graph = GraphClient(access_token=TOKEN, base_url=f"http://127.0.0.1:{port}", version="v24.0", timeout=(1, 0.2))
    try:
        with pytest.raises(errors.TransientError) as caught:
            graph.send_message(PHONE, TEXT)
        assert caught.value.may_have_left is True
    finally:
        thread.join(timeout=1)
        for conn, _addr in accepted:
            conn.close()
        server.close()


# --- the shared session -------------------------------------------------------------


def test_one_pooled_session_per_process_recreated_after_fork(monkeypatch):
    session = get_session()
    assert get_session() is session
    adapter = session.get_adapter("https://graph.facebook.com")
    assert adapter._pool_maxsize == client_module.POOL_MAXSIZE
    assert adapter.max_retries.total == 0
    monkeypatch.setattr(client_module.os, "getpid", lambda: -1)
    assert get_session() is not session
