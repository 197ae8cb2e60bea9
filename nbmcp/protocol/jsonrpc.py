"""JSON-RPC 2.0 framing: decode once with orjson, classify, and build answers as dicts."""

from __future__ import annotations

from typing import Any, Final

import orjson

from nbmcp.errors import InvalidRequest, ParseError, ProtocolError

__all__ = [
    "REQUEST_CANCELLED",
    "decode",
    "encode",
    "error_response",
    "is_notification",
    "is_response",
    "notification",
    "request",
    "result_response",
    "validate_message",
]

REQUEST_CANCELLED: Final[int] = -32800


def decode(body: bytes | str) -> Any:
    """Parse a body, turning bad JSON into a -32700 :class:`ParseError`."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Parse error: {exc}") from None


def encode(message: Any) -> bytes:
    """Serialise one message (or a list of them)."""
    return orjson.dumps(message)


def _valid_id(value: object) -> bool:
    return (isinstance(value, (str, int)) and not isinstance(value, bool)) or value is None


def validate_message(msg: object) -> dict[str, Any]:
    """Check the JSON-RPC envelope of one message and return it.

    Raises:
        InvalidRequest: with ``request_id`` set when the message's id could be read.
    """
    if not isinstance(msg, dict):
        raise InvalidRequest("Invalid Request: a message must be a JSON object")
    if msg.get("jsonrpc") != "2.0":
        raise InvalidRequest('Invalid Request: "jsonrpc" must be "2.0"', request_id=_id_of(msg))
    if "method" in msg:
        if not isinstance(msg["method"], str):
            raise InvalidRequest('Invalid Request: "method" must be a string', request_id=_id_of(msg))
        if "id" in msg and (msg["id"] is None or not _valid_id(msg["id"])):
            raise InvalidRequest('Invalid Request: "id" must be a string or an integer')
        params = msg.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            raise InvalidRequest('Invalid Request: "params" must be an object', request_id=_id_of(msg))
        return msg
    if "id" in msg and ("result" in msg or "error" in msg):
        return msg
    raise InvalidRequest(
        "Invalid Request: neither a request, a notification nor a response", request_id=_id_of(msg)
    )


def _id_of(msg: dict[str, Any]) -> Any:
    value = msg.get("id")
    return value if _valid_id(value) else None


def is_notification(msg: dict[str, Any]) -> bool:
    """A request with no id: it gets no answer."""
    return "method" in msg and "id" not in msg


def is_response(msg: dict[str, Any]) -> bool:
    """A result or error the client sends back for a request of ours."""
    return "method" not in msg


def result_response(msg_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    """A success answer."""
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}


def error_response(msg_id: Any, exc: ProtocolError) -> dict[str, Any]:
    """An error answer carrying the exception's code, message and data.

    When the request's id is unknown (unparsable body, a refusal before any message was
    read), the answer has no ``id`` member: MCP's schema allows only a string or an integer
    there (no ``null``), and from revision 2025-11-25 on it says such an answer has none.
    """
    if msg_id is None:
        return {"jsonrpc": "2.0", "error": exc.error}
    return {"jsonrpc": "2.0", "id": msg_id, "error": exc.error}


def notification(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message that expects no answer."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def request(msg_id: str | int, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A server-to-client request."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        msg["params"] = params
    return msg
