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

* the specification's own JSON Schema of that revision (``schema/<rev>/schema.json``, obtained by
  :mod:`tests.peers.spec_schema`; 2024-11-05 is judged by the 2025-03-26 schema, the ``_SINCE``
  check above rejecting what 2025-03-26 added), as strict as that schema is: a result against
  the result definition of its method (``tools/call`` -> ``CallToolResult``; the map is derived
  as the conformance suite does: every definition ``<X>Request`` whose ``method`` is a ``const``
  maps that method to ``<X>Result`` when the schema has one), then the whole answer against
  ``JSONRPCResponse`` / ``JSONRPCResultResponse``; an error against the definition of its
  ``code`` if the schema has one, else ``JSONRPCError`` / ``JSONRPCErrorResponse``; a batch must
  be a ``JSONRPCMessage`` of its revision (2025-06-18 dropped batches); an error whose request
  id could not be read has no ``id`` (never ``"id": null``), see ``spec_schema.schema_for`` for
  this and the other erratum the schema files get. Formats are asserted
  (``uri``, ``uri-template``, ``byte``). The schema itself leaves ``_meta``, capabilities and
  ``structuredContent`` open, and so does the check.

``validate_server_message(message, version)`` does the same for what a server sends on its own
(notifications, and requests such as ``sampling/createMessage``) on an SSE stream, against the
schema definition whose ``method`` is the message's.

Every function raises ``AssertionError`` (or a pydantic ``ValidationError``) naming the problem
(for the JSON Schema: every violation, each with the definition, the JSON path and the message)
and returns the checked ``result`` / ``error`` dict, so a test can go on asserting on it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import mcp_types
import referencing
import referencing.jsonschema
from mcp_types import methods as mcp_methods
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from tests.peers import spec_schema

__all__ = [
    "HANDSHAKE_VERSIONS",
    "later_fields",
    "schema_problems",
    "sessionless_version",
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


# -- the specification's JSON Schema ------------------------------------------------------------

# The union definitions a method const also appears in (the suite skips them the same way).
_UNIONS = frozenset(
    {
        "ClientRequest",
        "ClientNotification",
        "ClientResult",
        "ClientMessage",
        "ServerRequest",
        "ServerNotification",
        "ServerResult",
        "ServerMessage",
    }
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_VARNAME = r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*"
_VARSPEC = _VARNAME + r"(?::[1-9][0-9]{0,3}|\*)?"
_URI_TEMPLATE = re.compile(
    r"(?:[^\x00-\x20\x7f\"'%<>\\^`{|}]|%[0-9A-Fa-f]{2}"
    r"|\{[+#./;?&=,!@|]?" + _VARSPEC + r"(?:," + _VARSPEC + r")*\})*"
)

_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """RFC 3986 ``URI`` (absolute: a scheme, then only URI characters), as ajv-formats' ``uri``."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


@_FORMATS.checks("uri-template")
def _is_uri_template(value: object) -> bool:
    """RFC 6570 level-4 syntax: literals and ``{op var,var:3,var*}`` expressions."""
    return not isinstance(value, str) or _URI_TEMPLATE.fullmatch(value) is not None


@_FORMATS.checks("byte", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    """``byte`` (the spec's ``data``/``blob`` fields): standard, padded base64."""
    if isinstance(value, str):
        base64.b64decode(value.encode("ascii"), validate=True)
    return True


@dataclass(frozen=True)
class _Spec:
    revision: str
    defs: Mapping[str, Any]
    method_defs: Mapping[str, str]  # method -> the definition of that request/notification
    result_defs: Mapping[str, str]  # request method -> the definition of its result
    error_defs: Mapping[int, str]  # error code -> the definition of that error response
    validators: dict[str, Any]

    def first(self, *names: str) -> str:
        """The first of ``names`` this revision defines (the later spelling first)."""
        return next((name for name in names if name in self.defs), names[-1])

    def problems(self, name: str, instance: Any, where: str) -> list[str]:
        validator = self.validators.get(name)
        if validator is None:
            raise AssertionError(f"schema {self.revision} has no definition {name!r}")
        out = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            detail = error.message
            if error.context:  # anyOf/oneOf: say why the branch meant (by its "type") failed
                detail += " (" + "; ".join(f"{_path(where, e)}: {e.message}" for e in _closest(error)) + ")"
            out.append(f"{name} at {_path(where, error)}: {detail}")
        return out


def _closest(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors of the anyOf/oneOf branch ``error``'s instance meant: not one refusing its discriminator."""
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    meant = [
        errors
        for errors in branches.values()
        if not any(e.validator in ("const", "enum") and list(e.relative_path) == ["type"] for e in errors)
    ]
    if not meant:
        return [jsonschema.exceptions.best_match(error.context or [])]
    return min(meant, key=len)[:3]


def _path(where: str, error: jsonschema.ValidationError) -> str:
    return where + str(error.json_path)[1:]


@functools.cache
def _spec(version: str) -> _Spec:
    revision, schema = spec_schema.schema_for(version)
    key = "$defs" if "$defs" in schema else "definitions"
    defs: dict[str, Any] = schema[key]
    uri = f"urn:mcp-spec:{revision}/schema.json"
    resource = referencing.jsonschema.specification_with(schema["$schema"]).create_resource(schema)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(uri, resource)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    method_defs: dict[str, str] = {}
    result_defs: dict[str, str] = {}
    error_defs: dict[int, str] = {}
    for name, definition in defs.items():
        if name in _UNIONS or not isinstance(definition, dict):
            continue
        properties = definition.get("properties") or {}
        method = (properties.get("method") or {}).get("const")
        if isinstance(method, str):
            method_defs[method] = name
            if name.endswith("Request") and name[: -len("Request")] + "Result" in defs:
                result_defs[method] = name[: -len("Request")] + "Result"
        for part in (properties.get("error") or {}).get("allOf") or []:
            code = ((part.get("properties") or {}).get("code") or {}).get("const")
            if isinstance(code, int):
                error_defs[code] = name
    validators = {
        name: cls({"$ref": f"{uri}#/{key}/{name}"}, registry=registry, format_checker=_FORMATS)
        for name in defs
    }
    return _Spec(revision, defs, method_defs, result_defs, error_defs, validators)


def schema_problems(message: Any, version: str, request_method: str | None = None) -> list[str]:
    """Every way ``message`` (one JSON-RPC message, or a batch) breaks the spec schema of ``version``.

    An answer's result is checked against the result of ``request_method`` (when the schema
    defines one), then as a response; an error against the definition of its code, else as an
    error response; a request or notification against the definition of its method.
    """
    spec = _spec(version)
    if isinstance(message, list):
        in_batch = [
            f"[{i}] {problem}"
            for i, item in enumerate(message)
            for problem in schema_problems(item, version, request_method)
        ]
        if not in_batch and spec.problems("JSONRPCMessage", message, "$"):
            in_batch.append(f"JSONRPCMessage: batch arrays are not valid in protocol {version}")
        return in_batch
    obj = message if isinstance(message, dict) else {}
    if isinstance(obj.get("method"), str):
        fallback = "JSONRPCRequest" if "id" in obj else "JSONRPCNotification"
        return spec.problems(spec.method_defs.get(obj["method"], fallback), message, "$")
    if obj.get("error") is not None:
        code = obj["error"].get("code") if isinstance(obj["error"], dict) else None
        name = spec.error_defs.get(code) if isinstance(code, int) else None
        return spec.problems(name or spec.first("JSONRPCErrorResponse", "JSONRPCError"), message, "$")
    if "result" in obj:
        result = obj["result"]
        kind = result.get("resultType") if isinstance(result, dict) else None
        problems: list[str] = []
        if kind == "input_required" and "InputRequiredResult" in spec.defs:
            problems = spec.problems("InputRequiredResult", result, "$.result")
        elif kind != "task" and request_method is not None and request_method in spec.result_defs:
            problems = spec.problems(spec.result_defs[request_method], result, "$.result")
        if problems:
            return [f"{problem} (result of {request_method!r})" for problem in problems]
        return spec.problems(spec.first("JSONRPCResultResponse", "JSONRPCResponse"), message, "$")
    return ["JSONRPCMessage: not a valid JSON-RPC request, notification, or response"]


def _assert_schema(message: Any, version: str, request_method: str | None = None) -> None:
    problems = schema_problems(message, version, request_method)
    if problems:
        revision = _spec(version).revision
        judged = f"protocol {version}"
        if revision != version:
            judged += f" (judged by the {revision} schema)"
        raise AssertionError(
            f"{len(problems)} violation(s) of the specification's JSON Schema, {judged}:\n  "
            + "\n  ".join(problems)
            + f"\nmessage: {message!r:.600}"
        )


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
        checked = [validate_answer(method, item, version, expect=expect, later=later) for item in payload]
        _assert_schema(payload, version, method)  # the items passed: is a batch one in this revision?
        return checked
    _check_envelope(payload, request_id)
    if "error" in payload:
        assert expect in (None, "error"), f"expected a result for {method}, got error {payload['error']!r}"
        # mcp-types (JSON-RPC 2.0's reading) wants ``"id": null`` for an id that could not be read;
        # the specification wants no ``id`` then (its transport text, and every schema.json, which
        # refuses ``null``): the schema check below has the last word, so let mcp-types see null.
        envelope = mcp_types.JSONRPCError.model_validate({"id": None, **payload})
        error = payload["error"]
        assert isinstance(error, dict) and set(error) <= {"code", "message", "data"}, (
            f"error object has unknown members: {error!r}"
        )
        assert isinstance(error["code"], int) and not isinstance(error["code"], bool)
        assert error["message"].strip(), "error message must not be empty"
        if envelope.error.code == mcp_types.UNSUPPORTED_PROTOCOL_VERSION:
            data = mcp_types.UnsupportedProtocolVersionErrorData.model_validate(error.get("data"))
            assert data.supported, "-32022 data.supported must list at least one version"
        _assert_schema(payload, version, method)
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
    _assert_schema(payload, version, method)
    return result


def sessionless_version(
    method: str | None, headers: Mapping[str, str] | None = None, answer: Any = None, *, batch: bool = False
) -> str:
    """The revision a POST that belongs to no session was answered under, to judge its ``answer`` by.

    An ``initialize`` runs under the revision it negotiated (the answer's ``protocolVersion``,
    when it names one this oracle knows; the oracle then checks the rest). Otherwise the
    ``MCP-Protocol-Version`` header's; without one, nbmcp answers a single message under the
    latest handshake revision and a batch under 2025-03-26 (what the specification says to
    assume for a request without the header; batches exist only up to 2025-03-26).
    """
    if method == "initialize" and isinstance(answer, dict) and isinstance(answer.get("result"), dict):
        negotiated = answer["result"].get("protocolVersion")
        if negotiated in KNOWN_PROTOCOL_VERSIONS:
            return str(negotiated)
    for name, value in (headers or {}).items():
        if name.lower() == "mcp-protocol-version":
            return value
    return "2025-03-26" if batch else HANDSHAKE_VERSIONS[-1]


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
    _assert_schema(message, version)
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
