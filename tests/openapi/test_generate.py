"""The generated Action schema: valid OpenAPI 3.1.0 and 3.0.3, clean for the checker, true to the tools."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from pydantic import BaseModel

from nbmcp import MCPServer
from nbmcp.errors import SchemaError
from nbmcp.openapi import build_schema, check_schema, dumps, safe_operation_ids
from nbmcp.openapi.convert import to_openapi_30
from nbmcp.openapi.document import cut_text
from nbmcp.openapi.security import OAuth2
from tests.openapi.oas import all_refs, check_body, operations, resolve
from tests.openapi.sample_tools import EXAMPLES, build_server

URL = "https://tools.example.com"
READ_ONLY = {"add", "move", "stats.summary", "today", "pixel"}


@pytest.mark.parametrize("envelope", [False, True], ids=["per-tool", "envelope"])
@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_valid_openapi_and_clean_for_the_checker(version: str, envelope: bool) -> None:
    server = build_server(tool_timeout=30)
    report = server.action_schema(URL, openapi=version, envelope=envelope)
    validate(report.document)  # openapi-spec-validator: raises on any spec violation
    assert report.document["openapi"] == ("3.1.0" if version == "3.1.0" else "3.0.3")
    assert check_schema(report.document) == []
    assert report.ok and not report.warnings
    assert json.loads(json.dumps(report.document)) == report.document  # plain JSON data


@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_one_operation_per_tool_faithful_to_the_tool(version: str) -> None:
    server = build_server()
    doc = server.action_schema(URL, openapi=version).document
    ops = {path.removeprefix("/tools/"): op for method, path, op in operations(doc) if method == "post"}
    assert set(ops) == set(server.tools) == set(EXAMPLES)
    assert doc["servers"] == [{"url": URL}]
    ids = [op["operationId"] for op in ops.values()]
    assert len(set(ids)) == len(ids)
    assert ops["stats.summary"]["operationId"] == "stats_summary"
    assert ops["add"]["operationId"] == "add"
    for name, op in ops.items():
        tool = server.tools[name]
        assert (op.get("x-openai-isConsequential") is False) == (name in READ_ONLY), name
        assert len(op["summary"]) <= 300 and len(op.get("description", "")) <= 300
        # summary: the docstring's first sentence; description: the whole prose, when it says more
        assert (tool.description or "").startswith(op["summary"]), name
        assert op.get("description", op["summary"]) == tool.description, name
        inputs = tool.args.schema
        if "requestBody" not in op:
            assert not inputs["properties"], name
            continue
        body = resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
        assert body["type"] == "object"
        assert list(body["properties"]) == list(inputs["properties"])
        assert body.get("required", []) == inputs.get("required", [])
        assert op["requestBody"]["required"] is bool(inputs.get("required"))
        check_body(doc, op["requestBody"]["content"]["application/json"]["schema"], EXAMPLES[name][0])
    # typed results are documented by the tool's output schema; untyped ones by ToolOutput
    add_ok = ops["add"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert add_ok == {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}
    for name in ("lookup", "pixel", "countdown", "greet"):
        schema = ops[name]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ToolOutput"}, name
    media = doc["components"]["schemas"]["Media"]["properties"]["data"]
    assert media.get("contentEncoding" if version == "3.1.0" else "format") == (
        "base64" if version == "3.1.0" else "byte"
    )
    assert {"400", "422", "default"} <= set(ops["add"]["responses"])
    assert "security" not in doc and "securitySchemes" not in doc["components"]


@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_defs_move_to_components_and_every_ref_resolves(version: str) -> None:
    doc = build_server().action_schema(URL, openapi=version).document
    text = json.dumps(doc)
    assert "$defs" not in text and "#/definitions" not in text
    schemas = doc["components"]["schemas"]
    assert {"Point", "Node", "Color", "Circle", "Square"} <= set(schemas)
    for ref in set(all_refs(doc)):
        assert resolve(doc, {"$ref": ref}) is not None, ref
    assert schemas["Node"]["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}
    area = doc["paths"]["/tools/area"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert area["properties"]["shape"]["discriminator"]["mapping"] == {
        "circle": "#/components/schemas/Circle",
        "square": "#/components/schemas/Square",
    }


class _Heavy:
    class Item(BaseModel):
        weight: int


class _Big:
    class Item(BaseModel):
        size: int


HeavyItem = _Heavy.Item
BigItem = _Big.Item


class Box(BaseModel):
    item: HeavyItem


def test_models_shared_once_and_namesakes_kept_apart() -> None:
    server = MCPServer("defs")

    @server.tool
    def put(item: HeavyItem) -> int:
        """Put an item."""
        return 1

    @server.tool
    def put_again(item: HeavyItem, box: Box) -> int:
        """Put an item into a box."""
        return 1

    @server.tool
    def other(item: BigItem) -> int:
        """A different model that is also called Item."""
        return 1

    doc = server.action_schema(URL).document
    schemas = doc["components"]["schemas"]
    items = {name: body for name, body in schemas.items() if name.startswith("Item")}
    assert sorted(items) == ["Item", "Item_2"]
    assert set(items["Item"]["properties"]) == {"weight"} and set(items["Item_2"]["properties"]) == {"size"}
    assert schemas["Box"]["properties"]["item"] == {"$ref": "#/components/schemas/Item"}

    def prop(tool: str) -> Any:
        return doc["paths"][f"/tools/{tool}"]["post"]["requestBody"]["content"]["application/json"]["schema"][
            "properties"
        ]["item"]

    assert prop("put") == prop("put_again") == {"$ref": "#/components/schemas/Item"}
    assert prop("other") == {"$ref": "#/components/schemas/Item_2"}
    validate(doc)
    assert not [f for f in check_schema(doc) if f.severity == "error"]


def test_openapi_30_conversion_rules() -> None:
    convert = to_openapi_30
    assert convert(
        {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "description": "d"}
    ) == {
        "type": "integer",
        "nullable": True,
        "default": None,
        "description": "d",
    }
    assert convert({"type": ["string", "null"]}) == {"type": "string", "nullable": True}
    ref_or_null = convert({"anyOf": [{"$ref": "#/components/schemas/P"}, {"type": "null"}]})
    assert ref_or_null == {
        "anyOf": [{"$ref": "#/components/schemas/P"}, {"type": "string", "nullable": True, "enum": [None]}]
    }
    assert convert({"const": "circle", "type": "string"}) == {"enum": ["circle"], "type": "string"}
    assert convert({"type": "number", "exclusiveMinimum": 0}) == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    assert convert({"$ref": "#/components/schemas/P", "description": "where"}) == {
        "description": "where",
        "allOf": [{"$ref": "#/components/schemas/P"}],
    }
    assert convert(
        {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2}
    ) == {
        "type": "array",
        "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "minItems": 2,
    }
    assert convert({"type": "string", "examples": ["a", "b"], "contentEncoding": "base64"}) == {
        "type": "string",
        "example": "a",
        "format": "byte",
    }
    assert convert({"enum": ["a", "b"], "type": "string", "nullable": True}) == {
        "enum": ["a", "b", None],
        "type": "string",
        "nullable": True,
    }
    assert convert({"type": "object", "additionalProperties": {"type": ["integer", "null"]}}) == {
        "type": "object",
        "additionalProperties": {"type": "integer", "nullable": True},
    }


@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_yaml_is_the_same_document(version: str) -> None:
    report = build_server().action_schema(URL, openapi=version, auth="bearer")
    assert yaml.safe_load(report.text("yaml")) == report.document
    assert json.loads(report.text("json")) == report.document
    assert report.text("yaml").startswith(f'openapi: "{report.document["openapi"]}"\n')


_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(_json)
def test_yaml_writer_round_trips_any_json(value: Any) -> None:
    assert yaml.safe_load(dumps(value, "yaml")) == value


def test_safe_operation_ids_and_cutting() -> None:
    long = "t" * 128
    ids = safe_operation_ids(["a.b", "a_b", "x y", long, long[:-1] + "."])
    assert ids["a_b"] == "a_b"  # a valid name keeps itself, whatever comes first
    assert ids["a.b"] == "a_b_2"
    assert ids["x y"] == "x_y"
    assert ids[long] == "t" * 64 and ids[long[:-1] + "."] == "t" * 62 + "_2"
    assert all(len(v) <= 64 for v in ids.values()) and len(set(ids.values())) == len(ids)
    text = "word " * 100
    cut = cut_text(text, 300)
    assert len(cut) <= 300 and cut.endswith("…") and not cut.endswith(" …")
    assert cut_text("short", 300) == "short"


def test_server_url_choice() -> None:
    server = build_server()
    assert server.action_schema().document["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert server.action_schema("https://x.example/mcp/").document["servers"] == [
        {"url": "https://x.example"}
    ]
    server.public_url = "https://pub.example"
    assert server.action_schema().document["servers"] == [{"url": "https://pub.example"}]
    assert "pub.example" in server.config.allowed_hosts
    assert server.action_schema("https://given.example").document["servers"] == [
        {"url": "https://given.example"}
    ]
    with pytest.raises(SchemaError, match="absolute http"):
        server.action_schema("ftp://nope")
    with pytest.raises(SchemaError, match=r"3\.1"):
        server.action_schema(openapi="2.0")
    with pytest.raises(SchemaError, match="auth style"):
        server.action_schema(auth="kerberos")


def test_security_schemes_follow_the_server() -> None:
    keyed = build_server(api_key="k-1")
    doc = keyed.action_schema(URL).document
    assert doc["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert "401" in doc["paths"]["/tools/add"]["post"]["responses"]
    assert "k-1" not in json.dumps(doc)
    oauth = OAuth2(
        "https://tools.example.com/authorize", "https://tools.example.com/token", {"read": "Read data"}
    )
    doc, _notes = build_schema(
        build_server().tools.values(), title="t", server_url=URL, auth="oauth", oauth=oauth
    )
    flow = doc["components"]["securitySchemes"]["OAuth2"]["flows"]["authorizationCode"]
    assert flow == {
        "authorizationUrl": "https://tools.example.com/authorize",
        "tokenUrl": "https://tools.example.com/token",
        "scopes": {"read": "Read data"},
    }
    assert doc["security"] == [{"OAuth2": ["read"]}]
    validate(doc)
    assert check_schema(doc) == []
    with pytest.raises(SchemaError, match="OAuth settings"):
        build_schema([], title="t", auth="oauth")
