"""JSON-RPC 2.0 framing: what is a request, a notification, a response, and what is invalid."""

from __future__ import annotations

import pytest

from nbmcp.errors import InvalidRequest, ParseError
from nbmcp.protocol import jsonrpc


def test_decode_rejects_bad_json_with_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        jsonrpc.decode(b"{not json")
    assert info.value.code == -32700


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "id": "a", "method": "ping", "params": {}}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 3, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": 3, "error": {"code": 1, "message": "x"}}, "response"),
    ],
)
def test_valid_messages_are_classified(message: dict[str, object], kind: str) -> None:
    msg = jsonrpc.validate_message(message)
    assert jsonrpc.is_notification(msg) == (kind == "notification")
    assert jsonrpc.is_response(msg) == (kind == "response")


@pytest.mark.parametrize(
    ("message", "request_id"),
    [
        ([1, 2], None),
        ("ping", None),
        ({"id": 1, "method": "ping"}, 1),
        ({"jsonrpc": "1.0", "id": 7, "method": "ping"}, 7),
        ({"jsonrpc": "2.0", "id": 2, "method": 5}, 2),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": 4, "method": "ping", "params": "x"}, 4),
        ({"jsonrpc": "2.0", "id": 9}, 9),
    ],
)
def test_invalid_messages_raise_invalid_request_keeping_the_id(message: object, request_id: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        jsonrpc.validate_message(message)
    assert info.value.code == -32600
    assert info.value.request_id == request_id


def test_answers_have_the_jsonrpc_shape() -> None:
    assert jsonrpc.result_response(1, {}) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    err = jsonrpc.error_response("x", InvalidRequest("bad", {"why": 1}))
    assert err == {
        "jsonrpc": "2.0",
        "id": "x",
        "error": {"code": -32600, "message": "bad", "data": {"why": 1}},
    }
    assert jsonrpc.notification("n") == {"jsonrpc": "2.0", "method": "n"}
