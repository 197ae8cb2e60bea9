"""The oracle's JSON Schema check bites: broken answers fail it, valid ones pass, per revision.

Several of the broken answers here pass the older ``mcp-types`` checks (pydantic's lax mode
coerces ``"false"`` to ``False``; it does not check formats), which is why the specification's
own schema is applied as well.
"""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from mcp_types import methods as mcp_methods

from tests.peers import oracle, spec_schema

VERSIONS = oracle.HANDSHAKE_VERSIONS
TEXT = {"type": "text", "text": "hi"}
TOOL = {"name": "add", "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}}}}
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


def defs_of(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = schema["$defs"] if "$defs" in schema else schema["definitions"]
    return defs


def answer(result: dict[str, Any], request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def old_checks_pass(method: str, result: dict[str, Any], version: str) -> bool:
    try:
        mcp_methods.parse_server_result(method, version, result)
    except Exception:
        return False
    return True


# -- where the schemas come from ---------------------------------------------------------------


def test_every_revision_has_its_schema_from_the_pinned_package() -> None:
    found = spec_schema.schemas()
    assert set(spec_schema.SHIPPED) <= set(found)
    assert found["2025-03-26"]["$schema"].startswith("http://json-schema.org/draft-07")
    assert "2020-12" in found["2025-11-25"]["$schema"]
    for version in (*VERSIONS, "2026-07-28"):
        revision, schema = spec_schema.schema_for(version)
        assert revision == ("2025-03-26" if version == "2024-11-05" else version)
        defs = defs_of(schema)
        assert {"CallToolResult", "ListToolsResult", "Tool", "JSONRPCNotification"} <= set(defs)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_result_map_is_derived_from_the_schema(version: str) -> None:
    spec = oracle._spec(version)
    assert spec.result_defs["tools/call"] == "CallToolResult"
    assert spec.result_defs["tools/list"] == "ListToolsResult"
    assert spec.result_defs["initialize"] == "InitializeResult"
    assert spec.result_defs["resources/read"] == "ReadResourceResult"
    assert "ping" not in spec.result_defs  # PingRequest has no PingResult: the envelope judges it
    assert spec.method_defs["notifications/progress"] == "ProgressNotification"


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_number_schema_bounds_are_numbers_as_the_suite_patches_them(version: str) -> None:
    _, schema = spec_schema.schema_for(version)
    bounds = defs_of(schema)["NumberSchema"]["properties"]
    assert bounds["minimum"]["type"] == bounds["maximum"]["type"] == "number"
    raw = spec_schema.schemas()[version]  # the cached original is left as shipped
    assert defs_of(raw)["NumberSchema"]["properties"]["minimum"]["type"] == "integer"


# -- valid answers pass ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_answers_pass(version: str) -> None:
    image = {"type": "image", "data": PNG_1PX, "mimeType": "image/png"}
    call = oracle.validate_answer("tools/call", answer({"content": [TEXT, image], "isError": False}), version)
    assert call["content"][0] == TEXT
    assert oracle.validate_answer("tools/list", answer({"tools": [TOOL]}), version)["tools"] == [TOOL]
    assert oracle.validate_answer("ping", answer({}), version) == {}
    resources = {"resources": [{"uri": "data://x/detail", "name": "x"}]}
    oracle.validate_answer("resources/list", answer(resources), version)
    templates = {"resourceTemplates": [{"uriTemplate": "data://{name}/detail{?q,r*}", "name": "d"}]}
    oracle.validate_answer("resources/templates/list", answer(templates), version)
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}
    assert oracle.validate_answer("nope", error, version)["code"] == -32601
    progress = {"progressToken": "t", "progress": 1.5}
    oracle.validate_server_message(
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": progress}, version
    )


# -- broken answers fail ---------------------------------------------------------------------------

# (method, result, what the failure names) -- each passes the mcp-types checks
PASS_OLD_FAIL_SCHEMA: dict[str, tuple[str, dict[str, Any], str]] = {
    "isError-a-string": (
        "tools/call",
        {"content": [TEXT], "isError": "false"},
        "CallToolResult at $.result.isError: 'false' is not of type 'boolean'",
    ),
    "image-data-not-base64": (
        "tools/call",
        {"content": [{"type": "image", "data": "not base64!", "mimeType": "image/png"}]},
        "$.result.content[0].data: 'not base64!' is not a 'byte'",
    ),
    "resource-uri-without-scheme": (
        "resources/list",
        {"resources": [{"uri": "no scheme here", "name": "n"}]},
        "ListResourcesResult at $.result.resources[0].uri: 'no scheme here' is not a 'uri'",
    ),
    "template-with-a-broken-expression": (
        "resources/templates/list",
        {"resourceTemplates": [{"uriTemplate": "data://{na me}", "name": "n"}]},
        "$.result.resourceTemplates[0].uriTemplate: 'data://{na me}' is not a 'uri-template'",
    ),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", sorted(PASS_OLD_FAIL_SCHEMA))
def test_the_schema_catches_what_mcp_types_lets_through(case: str, version: str) -> None:
    method, result, named = PASS_OLD_FAIL_SCHEMA[case]
    assert old_checks_pass(method, result, version), "this case should be one only the schema catches"
    with pytest.raises(AssertionError) as caught:
        oracle.validate_answer(method, answer(result), version)
    assert named in str(caught.value)
    assert "violation(s) of the specification's JSON Schema" in str(caught.value)


@pytest.mark.parametrize("version", VERSIONS)
def test_text_content_without_text_fails_the_schema(version: str) -> None:
    broken = answer({"content": [{"type": "text"}]})
    problems = oracle.schema_problems(broken, version, "tools/call")
    assert problems == [
        "CallToolResult at $.result.content[0]: {'type': 'text'} is not valid under any of the given "
        "schemas ($.result.content[0]: 'text' is a required property) (result of 'tools/call')"
    ]
    with pytest.raises((AssertionError, pydantic.ValidationError)):  # mcp-types catches this one too
        oracle.validate_answer("tools/call", broken, version)
    assert oracle.schema_problems(answer({"content": [TEXT]}), version, "tools/call") == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_tool_without_input_schema_fails_the_schema(version: str) -> None:
    broken = answer({"tools": [{"name": "add"}]})
    problems = oracle.schema_problems(broken, version, "tools/list")
    assert problems == [
        "ListToolsResult at $.result.tools[0]: 'inputSchema' is a required property (result of 'tools/list')"
    ]
    not_an_object = answer({"tools": [{"name": "add", "inputSchema": {"type": "array"}}]})
    assert oracle.schema_problems(not_an_object, version, "tools/list")
    assert oracle.schema_problems(answer({"tools": [TOOL]}), version, "tools/list") == []


def test_every_violation_is_reported_with_its_definition_and_path() -> None:
    broken = answer(
        {"tools": [{"name": "a"}, {"name": 5, "inputSchema": {"type": "object"}}], "nextCursor": 1}
    )
    with pytest.raises(AssertionError) as caught:
        oracle._assert_schema(broken, "2025-11-25", "tools/list")
    text = str(caught.value)
    assert text.startswith("3 violation(s) of the specification's JSON Schema, protocol 2025-11-25:")
    assert "ListToolsResult at $.result.nextCursor: 1 is not of type 'string'" in text
    assert "ListToolsResult at $.result.tools[0]: 'inputSchema' is a required property" in text
    assert "ListToolsResult at $.result.tools[1].name: 5 is not of type 'string'" in text


def test_2024_11_05_is_judged_by_the_2025_03_26_schema() -> None:
    with pytest.raises(AssertionError, match=r"protocol 2024-11-05 \(judged by the 2025-03-26 schema\)"):
        oracle.validate_answer("tools/call", answer({"content": [TEXT], "isError": 0}), "2024-11-05")
    # ... and what 2025-03-26 added is still refused by the later-fields check
    with pytest.raises(AssertionError, match="exists only since 2025-03-26"):
        oracle.validate_answer("tools/list", answer({"tools": [{**TOOL, "annotations": {}}]}), "2024-11-05")


def test_errors_are_judged_by_the_definition_of_their_code() -> None:
    # 2025-11-25 defines -32042 (URL elicitation required): its data must list the elicitations
    bare = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32042, "message": "Open the URL"}}
    with pytest.raises(AssertionError, match="URLElicitationRequiredError at"):
        oracle.validate_answer("tools/call", bare, "2025-11-25")
    # a string id is fine, a float id is not a RequestId
    floaty = {"jsonrpc": "2.0", "id": 1.5, "error": {"code": -32600, "message": "Invalid Request"}}
    assert oracle.schema_problems(floaty, "2025-06-18") == [
        "JSONRPCError at $.id: 1.5 is not of type 'string', 'integer'"
    ]


def test_batches_exist_only_up_to_2025_03_26() -> None:
    batch = [answer({}, 1), answer({"content": [TEXT]}, 2)]
    assert oracle.schema_problems(batch, "2025-03-26", "ping") == []
    assert oracle.schema_problems(batch, "2025-06-18", "ping") == [
        "JSONRPCMessage: batch arrays are not valid in protocol 2025-06-18"
    ]
    with pytest.raises(AssertionError, match="batch arrays are not valid in protocol 2025-11-25"):
        oracle.validate_answer("ping", batch[:1], "2025-11-25")
    broken = [answer({"content": [TEXT]}), answer({"content": [TEXT], "isError": "no"})]
    assert oracle.schema_problems(broken, "2025-03-26", "tools/call") == [
        "[1] CallToolResult at $.result.isError: 'no' is not of type 'boolean' (result of 'tools/call')"
    ]
    with pytest.raises(AssertionError, match=r"CallToolResult at \$.result.isError"):
        oracle.validate_answer("tools/call", broken, "2025-03-26")


@pytest.mark.parametrize("version", VERSIONS)
def test_server_messages_are_judged_by_the_definition_of_their_method(version: str) -> None:
    coerced = {
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": 1, "progress": "1"},
    }
    with pytest.raises(
        AssertionError, match=r"ProgressNotification at \$.params.progress: '1' is not of type"
    ):
        oracle.validate_server_message(coerced, version)
    params = {"messages": [{"role": "user", "content": TEXT}], "maxTokens": "5"}
    sampling = {"jsonrpc": "2.0", "id": 3, "method": "sampling/createMessage", "params": params}
    with pytest.raises(
        AssertionError, match=r"CreateMessageRequest at \$.params.maxTokens: '5' is not of type"
    ):
        oracle.validate_server_message(sampling, version)


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        (
            "uri",
            ["data://static", "file:///tmp/a%20b", "urn:x:y", "https://h/p?q=1#f"],
            ["", "a b", "/abs", "é:x"],
        ),
        (
            "uri-template",
            ["data://{name}/detail", "/x{?a,b*}{#c:3}", "plain"],
            ["{", "a}b", "{na me}", "a b"],
        ),
        ("byte", ["", "aGk=", PNG_1PX], ["a", "aGk", "not base64!"]),
    ],
)
def test_formats_are_asserted(fmt: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert oracle._FORMATS.conforms(value, fmt), (fmt, value)
    for value in bad:
        assert not oracle._FORMATS.conforms(value, fmt), (fmt, value)


@pytest.mark.parametrize("version", VERSIONS)
def test_an_error_without_a_readable_id_has_no_id_never_null(version: str) -> None:
    """The transport text of every revision: "a JSON-RPC error response that has no id"."""
    parse_error = {"code": -32700, "message": "Parse error"}
    assert oracle.validate_answer(None, {"jsonrpc": "2.0", "error": parse_error}, version) == parse_error
    with pytest.raises(AssertionError, match=r"at \$.id: None is not of type 'string', 'integer'"):
        oracle.validate_answer(None, {"jsonrpc": "2.0", "id": None, "error": parse_error}, version)
    with pytest.raises(AssertionError, match="does not echo request id 4"):  # an id it could read
        oracle.validate_answer("tools/list", {"jsonrpc": "2.0", "error": parse_error}, version, request_id=4)
