"""The OpenTelemetry semantic conventions for an MCP server, as names and plain dicts.

Followed from ``docs/gen-ai/mcp.md`` of open-telemetry/semantic-conventions (status
Development; the same text continues in open-telemetry/semantic-conventions-genai): the
``mcp.server`` span (name ``{mcp.method.name} {target}``, kind SERVER, status ERROR when
``error.type`` is set) and the ``mcp.server.operation.duration`` histogram. Nothing here
imports OpenTelemetry, so the rules can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from nbmcp.protocol.session import Session

__all__ = [
    "BUCKETS",
    "DURATION",
    "HTTP",
    "TOOL_ERROR",
    "describe",
    "metric_attributes",
    "outcome",
]

METHOD: Final = "mcp.method.name"
SESSION_ID: Final = "mcp.session.id"
PROTOCOL_VERSION: Final = "mcp.protocol.version"
RESOURCE_URI: Final = "mcp.resource.uri"
REQUEST_ID: Final = "jsonrpc.request.id"
TOOL: Final = "gen_ai.tool.name"
PROMPT: Final = "gen_ai.prompt.name"
OPERATION: Final = "gen_ai.operation.name"
ERROR_TYPE: Final = "error.type"
STATUS_CODE: Final = "rpc.response.status_code"
TRANSPORT: Final = "network.transport"
PROTOCOL_NAME: Final = "network.protocol.name"

DURATION: Final = "mcp.server.operation.duration"
"""The histogram: seconds from a request's arrival to its answer."""

BUCKETS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""The explicit bucket boundaries the convention gives the duration histograms (seconds)."""

TOOL_ERROR: Final = "tool_error"
"""``error.type`` of a ``tools/call`` answered with ``isError: true`` (a tool's own failure)."""

HTTP: Final[Mapping[str, str]] = {TRANSPORT: "tcp", PROTOCOL_NAME: "http"}
"""``network.*`` of Streamable HTTP, the transport :class:`~nbmcp.MCPServer` serves."""

_MAX_TARGET = 128
"""Longest tool or prompt name used as a span name's target (MCP names are 1 to 128 characters):
a longer one is no name a server registered, and span names should stay low-cardinality."""

_RESOURCE_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})

_METRIC_KEYS = frozenset(
    {METHOD, TOOL, PROMPT, OPERATION, PROTOCOL_VERSION, TRANSPORT, PROTOCOL_NAME, ERROR_TYPE, STATUS_CODE}
)
"""The histogram's attributes: the span's minus the per-request ones (ids, session, URI)."""


def _name(params: Mapping[str, Any]) -> str | None:
    name = params.get("name")
    return name if isinstance(name, str) and 0 < len(name) <= _MAX_TARGET else None


def describe(
    msg: Mapping[str, Any], session: Session, static: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """The span name and the attributes known as request ``msg`` starts in ``session``.

    ``static`` holds what the transport fixes (:data:`HTTP`). ``tools/call`` and
    ``prompts/get`` name their target; ``resources/*`` carry ``mcp.resource.uri`` as an
    attribute only (URIs are too many for span names).
    """
    method: str = msg["method"]
    raw = msg.get("params")
    params: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    attributes: dict[str, Any] = {METHOD: method, **static, PROTOCOL_VERSION: session.version}
    request_id = msg.get("id")
    if request_id is not None:
        attributes[REQUEST_ID] = str(request_id)
    if session.id is not None:
        attributes[SESSION_ID] = session.id
    target: str | None = None
    if method == "tools/call":
        attributes[OPERATION] = "execute_tool"
        target = _name(params)
        if target is not None:
            attributes[TOOL] = target
    elif method == "prompts/get":
        target = _name(params)
        if target is not None:
            attributes[PROMPT] = target
    elif method in _RESOURCE_METHODS:
        uri = params.get("uri")
        if isinstance(uri, str):
            attributes[RESOURCE_URI] = uri
    return (f"{method} {target}" if target is not None else method), attributes


def outcome(method: str, answer: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(error.type, rpc.response.status_code, status description)`` of an answer.

    A JSON-RPC error gives its code (as a string) to both and its message as the description;
    a tool's ``isError`` result gives ``tool_error`` and no code; success gives three ``None``.
    """
    error = answer.get("error")
    if isinstance(error, dict):
        code = str(error.get("code"))
        message = error.get("message")
        return code, code, message if isinstance(message, str) else None
    result = answer.get("result")
    if method == "tools/call" and isinstance(result, dict) and result.get("isError") is True:
        return TOOL_ERROR, None, None
    return None, None, None


def metric_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of a span's attributes the duration histogram records."""
    return {key: value for key, value in attributes.items() if key in _METRIC_KEYS}
