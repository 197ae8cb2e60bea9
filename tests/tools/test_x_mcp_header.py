"""``x-mcp-header``: ``headers=`` on tools, annotations in explicit schemas, and every rule the
spec (transports/streamable-http §Custom Headers) puts on them, checked at registration."""

from __future__ import annotations

from typing import Any, Literal, Optional

import pytest

from nbmcp import Context, MCPServer, ToolDefinitionError
from nbmcp.tools import Registry, Tool
from nbmcp.tools.x_mcp_header import HeaderParam, header_params


def execute_sql(region: str, query: str, limit: int = 10, dry_run: bool = False) -> str:
    """Run a query."""
    return f"{region}:{query}:{limit}:{dry_run}"


def _refused(match: str, **options: Any) -> str:
    """The one-line message of the ToolDefinitionError that registering execute_sql raises."""
    with pytest.raises(ToolDefinitionError, match=match) as caught:
        Tool.from_function(execute_sql, **options)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    return message


def _schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _explicit(schema: dict[str, Any], match: str) -> str:
    return _refused(match, input_schema=schema)


# -- headers= -----------------------------------------------------------------------------


def test_headers_option_annotates_the_property_and_fixes_the_params() -> None:
    tool = Tool.from_function(
        execute_sql, headers={"region": "Region", "limit": "Limit", "dry_run": "Dry-Run"}
    )
    props = tool.args.schema["properties"]
    assert props["region"]["x-mcp-header"] == "Region"
    assert props["limit"]["x-mcp-header"] == "Limit"
    assert "x-mcp-header" not in props["query"]
    assert tool.header_params == (
        HeaderParam(("region",), "Region", "mcp-param-region", "string"),
        HeaderParam(("limit",), "Limit", "mcp-param-limit", "integer"),
        HeaderParam(("dry_run",), "Dry-Run", "mcp-param-dry-run", "boolean"),
    )
    assert tool.definition("2026-07-28")["inputSchema"]["properties"]["region"]["x-mcp-header"] == "Region"


def test_a_tool_without_headers_has_none() -> None:
    tool = Tool.from_function(execute_sql)
    assert tool.header_params == ()
    assert all("x-mcp-header" not in p for p in tool.args.schema["properties"].values())


def test_headers_never_leak_into_other_tools_sharing_generated_schemas() -> None:
    first = Tool.from_function(execute_sql, name="first", headers={"region": "Region", "limit": "Limit"})

    def other(region: str, limit: int = 10) -> str:
        return region

    second = Tool.from_function(other)
    assert second.header_params == ()
    assert "x-mcp-header" not in second.args.schema["properties"]["region"]
    assert "x-mcp-header" not in second.args.schema["properties"]["limit"]
    assert first.header_params[0].name == "Region"


def test_server_decorator_and_registry_expose_the_params() -> None:
    server = MCPServer("x")

    @server.tool(headers={"region": "Region"})
    def sql(region: str, ctx: Context) -> str:
        """Run it."""
        return region

    expected = (HeaderParam(("region",), "Region", "mcp-param-region", "string"),)
    assert server.tools["sql"].header_params == expected
    assert server.registry.header_params("sql") == expected
    assert server.registry.header_params("nope") == ()
    assert Registry().header_params("sql") == ()


def test_headers_on_an_unknown_parameter_is_refused() -> None:
    message = _refused("not a parameter", headers={"regoin": "Region"})
    assert "'regoin'" in message and "region, query, limit, dry_run" in message


def test_headers_on_the_context_parameter_is_refused() -> None:
    def tool(region: str, ctx: Context) -> str:
        return region

    with pytest.raises(ToolDefinitionError, match="'ctx', which is not a parameter"):
        Tool.from_function(tool, headers={"ctx": "Ctx"})


def test_headers_must_be_a_mapping() -> None:
    _refused("headers must map parameter names to header names", headers=["region"])


# -- the value must be a header-name token --------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Re gion",
        "Region\r\nX-Evil: 1",
        "Region\n",
        "Région",
        "a:b",
        "a/b",
        "(x)",
        "a\tb",
        "a\x00",
        "a\x7f",
    ],
)
def test_a_value_that_is_not_an_rfc9110_token_is_refused(value: str) -> None:
    _refused("is not a header name", headers={"region": value})


def test_every_tchar_is_accepted() -> None:
    token = "!#$%&'*+-.^_`|~09AZaz"
    tool = Tool.from_function(execute_sql, headers={"region": token})
    assert tool.header_params[0].header == "mcp-param-" + token.lower()


@pytest.mark.parametrize("value", [123, None, True, ["Region"], {"a": 1}])
def test_a_value_that_is_not_a_string_is_refused(value: Any) -> None:
    message = _refused("must be a string, not", headers={"region": value})
    assert "'region'" in message


def test_a_huge_integer_value_is_refused_without_rendering_it() -> None:
    message = _explicit(
        _schema(region={"type": "string", "x-mcp-header": 10**5000}), "must be a string, not int"
    )
    assert len(message) < 200


# -- uniqueness ---------------------------------------------------------------------------------


def test_duplicates_are_refused_case_insensitively() -> None:
    message = _refused("repeats the one on 'region'", headers={"region": "Region", "query": "REGION"})
    assert "case-insensitive" in message


def test_duplicates_across_nesting_levels_are_refused() -> None:
    schema = _schema(
        region={"type": "string", "x-mcp-header": "Zone"},
        filter={"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "zone"}}},
    )
    _explicit(schema, "repeats the one on 'region'")


# -- types ------------------------------------------------------------------------------------------


def test_number_parameters_are_refused() -> None:
    def tool(ratio: float) -> float:
        return ratio

    with pytest.raises(ToolDefinitionError, match="of type 'number'; only string, integer and boolean"):
        Tool.from_function(tool, headers={"ratio": "Ratio"})


def test_optional_parameters_are_refused() -> None:
    def tool(region: Optional[str] = None) -> str:  # noqa: UP045 - the spelling users write
        return region or ""

    with pytest.raises(ToolDefinitionError, match="no single type"):
        Tool.from_function(tool, headers={"region": "Region"})


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "array", "items": {"type": "string"}},
        {"type": "object"},
        {"type": "null"},
        {"type": ["string", "null"]},
        {},
        {"enum": ["a", "b"]},
    ],
)
def test_other_types_are_refused(prop: dict[str, Any]) -> None:
    _explicit(_schema(region={**prop, "x-mcp-header": "Region"}), "only string, integer and boolean")


def test_a_literal_parameter_is_a_string() -> None:
    def tool(region: Literal["eu", "us"]) -> str:
        return region

    assert Tool.from_function(tool, headers={"region": "Region"}).header_params[0].type == "string"


# -- explicit input_schema: reachability and nesting -------------------------------------------


def test_explicit_schema_with_annotations() -> None:
    schema = _schema(
        region={"type": "string", "x-mcp-header": "Region"},
        query={"type": "string"},
        limit={"type": "integer", "x-mcp-header": "Limit"},
    )
    tool = Tool.from_function(execute_sql, input_schema=schema)
    assert [p.path for p in tool.header_params] == [("region",), ("limit",)]
    assert tool.args.schema["properties"]["region"]["x-mcp-header"] == "Region"


def test_nested_properties_chains_are_reachable() -> None:
    schema = _schema(
        region={"type": "string"},
        target={
            "type": "object",
            "properties": {
                "zone": {"type": "string", "x-mcp-header": "Zone"},
                "deep": {
                    "type": "object",
                    "properties": {"rack": {"type": "integer", "x-mcp-header": "Rack"}},
                },
            },
        },
    )
    tool = Tool.from_function(execute_sql, input_schema=schema)
    assert tool.header_params == (
        HeaderParam(("target", "zone"), "Zone", "mcp-param-zone", "string"),
        HeaderParam(("target", "deep", "rack"), "Rack", "mcp-param-rack", "integer"),
    )


def test_headers_option_adds_to_an_explicit_schema() -> None:
    schema = _schema(region={"type": "string"}, zone={"type": "string", "x-mcp-header": "Zone"})
    tool = Tool.from_function(execute_sql, input_schema=schema, headers={"region": "Region"})
    assert {p.name for p in tool.header_params} == {"Region", "Zone"}
    assert "x-mcp-header" not in schema["properties"]["region"]  # the caller's dict is untouched


_HEADER = {"type": "string", "x-mcp-header": "Region"}


@pytest.mark.parametrize(
    ("keyword", "schema"),
    [
        ("items", _schema(list={"type": "array", "items": _HEADER})),
        ("prefixItems", _schema(list={"type": "array", "prefixItems": [_HEADER]})),
        ("contains", _schema(list={"type": "array", "contains": _HEADER})),
        ("anyOf", _schema(region={"anyOf": [_HEADER, {"type": "null"}]})),
        ("oneOf", _schema(region={"oneOf": [_HEADER]})),
        ("allOf", {"type": "object", "allOf": [{"properties": {"region": _HEADER}}]}),
        ("not", _schema(region={"not": _HEADER})),
        ("if", _schema(region={"if": _HEADER})),
        ("then", {"type": "object", "if": {}, "then": {"properties": {"region": _HEADER}}}),
        ("else", {"type": "object", "if": {}, "else": {"properties": {"region": _HEADER}}}),
        ("$defs", {"type": "object", "properties": {"r": {"$ref": "#/$defs/R"}}, "$defs": {"R": _HEADER}}),
        ("definitions", {"type": "object", "definitions": {"R": _HEADER}}),
        ("additionalProperties", {"type": "object", "additionalProperties": _HEADER}),
        ("patternProperties", {"type": "object", "patternProperties": {"^r": _HEADER}}),
        ("dependentSchemas", {"type": "object", "dependentSchemas": {"a": {"properties": {"r": _HEADER}}}}),
    ],
)
def test_annotations_off_the_properties_chain_are_refused(keyword: str, schema: dict[str, Any]) -> None:
    message = _explicit(schema, "may only sit on a property reached from the root through 'properties'")
    assert f"under {keyword!r}" in message


def test_a_nested_chain_broken_deeper_down_names_the_first_keyword() -> None:
    inner = {"type": "object", "properties": {"zone": _HEADER}}
    schema = _schema(groups={"type": "array", "items": inner})
    assert "under 'items'" in _explicit(schema, "may only sit")


def test_an_annotation_on_the_root_is_refused() -> None:
    _explicit({"type": "object", "x-mcp-header": "Root", "properties": {}}, "sits on the schema root")


def test_data_keywords_are_not_walked() -> None:
    schema = _schema(
        region={"type": "string", "default": {"x-mcp-header": "no"}, "examples": [{"x-mcp-header": "no"}]},
        other={"type": "string", "const": {"x-mcp-header": "no"}},
    )
    assert Tool.from_function(execute_sql, input_schema=schema).header_params == ()


def test_header_params_of_non_schemas_and_the_tool_name_in_messages() -> None:
    assert header_params(None) == ()
    assert header_params([1, 2]) == ()
    assert header_params({"type": "object"}) == ()
    with pytest.raises(ToolDefinitionError, match=r"^tool 'sql': x-mcp-header"):
        header_params(_schema(r={"type": "number", "x-mcp-header": "R"}), tool="sql")
    with pytest.raises(ToolDefinitionError, match=r"^inputSchema: x-mcp-header"):
        header_params(_schema(r={"type": "number", "x-mcp-header": "R"}))


def test_a_deep_schema_does_not_recurse() -> None:
    node: dict[str, Any] = {"type": "string", "x-mcp-header": "Deep"}
    for _ in range(5000):
        node = {"type": "object", "properties": {"n": node}}
    (param,) = header_params(node)
    assert len(param.path) == 5000
