"""An outside judge for what nbmcp puts on the wire: the official ``mcp-types`` models, per revision.

``validate_answer(method, payload, version)`` checks one JSON-RPC answer (or a batch of them)
to a client request of ``method`` sent under protocol ``version``:

* the JSON-RPC 2.0 envelope (``mcp_types.JSONRPCResponse`` / ``mcp_types.JSONRPCError``; exactly
  one of ``result`` and ``error``; the ``id`` echoed when the caller says which it was);
* a result against that revision's wire model (``mcp_types.methods.parse_server_result``: the
  per-revision surface map, whose shapes come from ``mcp_types._v2025_11_25`` for every
  handshake-era revision, then the version-free model the SDK hands to user code);
* an error's ``code``/``message`` (``mcp_types.ErrorData``) and, for ``-32022``, its ``data``
  (``mcp_types.UnsupportedProtocolVersionErrorData``);
* no field a *later* revision introduced: the generated models share one shape for every
  pre-2026 revision and ignore unknown keys, so on their own they cannot tell a 2024-11-05
  answer from a 2025-11-25 one. ``_SINCE`` lists, from the published ``schema/<rev>/schema.json``
  files, the fields that appeared after 2024-11-05; a server that negotiated an older revision
  must not send them (its client does not know them).

``validate_server_message(message, version)`` does the same for what a server sends on its own
(notifications, and requests such as ``sampling/createMessage``) on an SSE stream.

Every function raises ``AssertionError`` (or a pydantic ``ValidationError``) naming the problem
and returns the checked ``result`` / ``error`` dict, so a test can go on asserting on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mcp_types
from mcp_types import methods as mcp_methods
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

__all__ = [
    "HANDSHAKE_VERSIONS",
    "later_fields",
    "split_answers",
    "validate_answer",
    "validate_client_request",
    "validate_client_result",
    "validate_server_message",
]

HANDSHAKE_VERSIONS: tuple[str, ...] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

# Fields each shape gained after 2024-11-05, and the revision that introduced them
# (read off schema/2024-11-05 .. 2025-11-25/schema.json of modelcontextprotocol/modelcontextprotocol).
_SINCE: dict[str, dict[str, str]] = {
    "Implementation": {
        "title": "2025-06-18",
        "description": "2025-11-25",
        "icons": "2025-11-25",
        "websiteUrl": "2025-11-25",
    },
    "ServerCapabilities": {"completions": "2025-03-26", "tasks": "2025-11-25", "extensions": "2026-07-28"},
    "Tool": {
        "annotations": "2025-03-26",
        "title": "2025-06-18",
        "outputSchema": "2025-06-18",
        "_meta": "2025-06-18",
        "icons": "2025-11-25",
        "execution": "2025-11-25",
    },
    "CallToolResult": {"structuredContent": "2025-06-18"},
    "Content": {"_meta": "2025-06-18"},
    "Annotations": {"lastModified": "2025-06-18"},
    "Resource": {"title": "2025-06-18", "_meta": "2025-06-18", "icons": "2025-11-25"},
    "Prompt": {"title": "2025-06-18", "_meta": "2025-06-18", "icons": "2025-11-25"},
    "PromptArgument": {"title": "2025-06-18"},
    "ResourceContents": {"_meta": "2025-06-18"},
    "ProgressParams": {"message": "2025-03-26"},
    "CreateMessageParams": {"tools": "2025-11-25", "toolChoice": "2025-11-25", "task": "2025-11-25"},
}
_CONTENT_TYPE_SINCE = {"audio": "2025-03-26", "resource_link": "2025-06-18"}


def _rank(version: str) -> int:
    if version not in KNOWN_PROTOCOL_VERSIONS:
        raise ValueError(f"unknown protocol version {version!r}")
    return KNOWN_PROTOCOL_VERSIONS.index(version)


def later_fields(shape: str, obj: Mapping[str, Any], version: str, where: str) -> list[str]:
    """Problems: keys of ``obj`` that ``shape`` only has in revisions after ``version``."""
    problems = []
    for key, since in _SINCE.get(shape, {}).items():
        if key in obj and _rank(since) > _rank(version):
            problems.append(f"{where}.{key} exists only since {since}, but the session speaks {version}")
    return problems


def _content(blocks: Any, version: str, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(blocks, list):
        return problems
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        here = f"{where}[{i}]"
        kind = block.get("type")
        since = _CONTENT_TYPE_SINCE.get(str(kind))
        if since is not None and _rank(since) > _rank(version):
            problems.append(f"{here} has type {kind!r}, which exists only since {since} (session: {version})")
        problems += later_fields("Content", block, version, here)
        if isinstance(block.get("annotations"), dict):
            problems += later_fields("Annotations", block["annotations"], version, here + ".annotations")
        if kind == "resource" and isinstance(block.get("resource"), dict):
            problems += later_fields("ResourceContents", block["resource"], version, here + ".resource")
        if kind == "resource_link":
            problems += later_fields("Resource", block, version, here)
    return problems


def _result_problems(method: str, result: Mapping[str, Any], version: str) -> list[str]:
    """Fields from later revisions anywhere in a result we know the shape of."""
    p: list[str] = []
    if method == "initialize":
        if isinstance(result.get("serverInfo"), dict):
            p += later_fields("Implementation", result["serverInfo"], version, "result.serverInfo")
        if isinstance(result.get("capabilities"), dict):
            p += later_fields("ServerCapabilities", result["capabilities"], version, "result.capabilities")
    elif method == "tools/list":
        for i, tool in enumerate(result.get("tools") or []):
            if isinstance(tool, dict):
                p += later_fields("Tool", tool, version, f"result.tools[{i}]")
    elif method == "tools/call":
        p += later_fields("CallToolResult", result, version, "result")
        p += _content(result.get("content"), version, "result.content")
    elif method in ("resources/list", "resources/templates/list"):
        key = "resources" if method == "resources/list" else "resourceTemplates"
        for i, res in enumerate(result.get(key) or []):
            if isinstance(res, dict):
                p += later_fields("Resource", res, version, f"result.{key}[{i}]")
    elif method == "resources/read":
        for i, contents in enumerate(result.get("contents") or []):
            if isinstance(contents, dict):
                p += later_fields("ResourceContents", contents, version, f"result.contents[{i}]")
    elif method == "prompts/list":
        for i, prompt in enumerate(result.get("prompts") or []):
            if isinstance(prompt, dict):
                p += later_fields("Prompt", prompt, version, f"result.prompts[{i}]")
                for j, arg in enumerate(prompt.get("arguments") or []):
                    if isinstance(arg, dict):
                        p += later_fields(
                            "PromptArgument", arg, version, f"result.prompts[{i}].arguments[{j}]"
                        )
    elif method == "prompts/get":
        for i, message in enumerate(result.get("messages") or []):
            if isinstance(message, dict):
                p += _content([message.get("content")], version, f"result.messages[{i}].content")
    return p


def _check_envelope(payload: Any, request_id: Any) -> None:
    assert isinstance(payload, dict), f"a JSON-RPC answer must be an object, got {type(payload).__name__}"
    assert payload.get("jsonrpc") == "2.0", f'"jsonrpc" must be "2.0": {payload!r:.300}'
    assert ("result" in payload) != ("error" in payload), (
        f"exactly one of result/error must be present: {payload!r:.300}"
    )
    assert "method" not in payload, f"an answer carries no method: {payload!r:.300}"
    if request_id is not _UNSET:
        assert payload.get("id") == request_id and type(payload.get("id")) is type(request_id), (
            f"answer id {payload.get('id')!r} does not echo request id {request_id!r}"
        )


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def validate_answer(
    method: str | None,
    payload: Any,
    version: str,
    *,
    request_id: Any = _UNSET,
    expect: str | None = None,
    later: bool = True,
) -> Any:
    """Validate the answer to a ``method`` request sent under protocol ``version``.

    Args:
        method: The request's method (``None`` when the request had none to speak of, e.g.
            an unparsable body: only an error answer is valid then).
        payload: The decoded JSON body: one answer, or a list of them (a batch; each one is
            then checked against ``method``).
        version: The protocol revision the exchange ran under.
        request_id: When given, the answer must carry exactly this id.
        expect: ``"result"`` or ``"error"`` to require one of them.
        later: Also reject fields a later revision introduced (``False`` only where a test
            checks that rule separately and must not be masked by it).

    Returns:
        The ``result`` dict, or the ``error`` dict (a list of those for a batch).
    """
    _rank(version)
    if isinstance(payload, list):
        assert payload, "a batch answer must not be an empty array"
        return [validate_answer(method, item, version, expect=expect, later=later) for item in payload]
    _check_envelope(payload, request_id)
    if "error" in payload:
        assert expect in (None, "error"), f"expected a result for {method}, got error {payload['error']!r}"
        envelope = mcp_types.JSONRPCError.model_validate(payload)
        error = payload["error"]
        assert isinstance(error, dict) and set(error) <= {"code", "message", "data"}, (
            f"error object has unknown members: {error!r}"
        )
        assert isinstance(error["code"], int) and not isinstance(error["code"], bool)
        assert error["message"].strip(), "error message must not be empty"
        if envelope.error.code == mcp_types.UNSUPPORTED_PROTOCOL_VERSION:
            data = mcp_types.UnsupportedProtocolVersionErrorData.model_validate(error.get("data"))
            assert data.supported, "-32022 data.supported must list at least one version"
        return error
    assert expect in (None, "result"), (
        f"expected an error for {method}, got result {payload['result']!r:.300}"
    )
    assert method is not None, f"an answer without a request method must be an error: {payload!r:.300}"
    mcp_types.JSONRPCResponse.model_validate(payload)
    result = payload["result"]
    assert isinstance(result, dict), "result must be an object"
    try:
        mcp_methods.parse_server_result(method, version, result)
    except KeyError:
        raise AssertionError(f"{method} has no result in protocol {version}") from None
    problems = _result_problems(method, result, version) if later else []
    assert not problems, "; ".join(problems)
    return result


def validate_server_message(message: Any, version: str) -> dict[str, Any]:
    """Validate a server-initiated notification or request seen on a stream under ``version``."""
    assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", f"not JSON-RPC: {message!r:.300}"
    method = message.get("method")
    assert isinstance(method, str), f"a server message needs a method: {message!r:.300}"
    params = message.get("params")
    if "id" in message:
        mcp_types.JSONRPCRequest.model_validate(message)
        try:
            mcp_methods.parse_server_request(method, version, params)
        except KeyError:
            raise AssertionError(
                f"a server may not send request {method!r} under protocol {version}"
            ) from None
        if method == "sampling/createMessage" and isinstance(params, dict):
            problems = later_fields("CreateMessageParams", params, version, "params")
            assert not problems, "; ".join(problems)
    else:
        mcp_types.JSONRPCNotification.model_validate(message)
        try:
            mcp_methods.parse_server_notification(method, version, params)
        except KeyError:
            raise AssertionError(
                f"a server may not send notification {method!r} under protocol {version}"
            ) from None
        if method == "notifications/progress" and isinstance(params, dict):
            problems = later_fields("ProgressParams", params, version, "params")
            assert not problems, "; ".join(problems)
    return message


def validate_client_request(method: str, params: Mapping[str, Any] | None, version: str) -> None:
    """Check that a request a test is about to send is itself valid for ``version``."""
    mcp_methods.validate_client_request(method, version, params)


def validate_client_result(method: str, result: Mapping[str, Any], version: str) -> None:
    """Check a result a test sends back for a server request (sampling, elicitation) at ``version``."""
    try:
        mcp_methods.validate_client_result(method, version, result)
    except KeyError:
        raise AssertionError(f"a client cannot answer {method!r} under protocol {version}") from None


def split_answers(messages: Iterable[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Separate a stream's messages into (answers, server-initiated messages)."""
    answers: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for message in messages:
        if (
            isinstance(message, dict)
            and "method" not in message
            and ("result" in message or "error" in message)
        ):
            answers.append(message)
        else:
            others.append(message)
    return answers, others
