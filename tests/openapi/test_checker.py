"""The checker flags each ChatGPT Action limit on purpose-made bad tools and documents, clearly."""

from __future__ import annotations

import base64
import copy
import html
import re
from typing import Any

import pytest

from nbmcp import MCPServer
from nbmcp.openapi import Finding, SchemaReport, build_schema, check_schema, render_report
from tests.openapi.sample_tools import build_server

URL = "https://tools.example.com"


def codes(findings: list[Finding], severity: str | None = None) -> list[str]:
    return [f.code for f in findings if severity is None or f.severity == severity]


def only(findings: list[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, (code, [str(f) for f in findings])
    return found[0]


def many_tools(n: int) -> MCPServer:
    server = MCPServer("crowded", tool_timeout=30)
    for i in range(n):

        def tool(x: int) -> int:
            return x

        tool.__doc__ = f"Tool number {i}."
        server.add_tool(tool, name=f"tool_{i:02d}")
    return server


def minimal(**paths: Any) -> dict[str, Any]:
    """A small valid document with the given paths."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": URL}],
        "paths": paths or {"/ok": {"post": {"operationId": "ok", "summary": "ok", "responses": {}}}},
    }


def test_31_tools_break_the_operation_limit_and_the_envelope_fits() -> None:
    server = many_tools(31)
    report = server.action_schema(URL)
    finding = only(report.findings, "too-many-operations")
    assert finding.severity == "error" and not report.ok
    assert "31 operations" in finding.message and "at most 30" in finding.message
    assert "Remove 1 tool," in finding.message and "--envelope" in finding.message
    envelope = server.action_schema(URL, envelope=True)
    assert envelope.ok and envelope.operations == 1
    assert many_tools(30).action_schema(URL).ok


def test_a_400_character_docstring() -> None:
    server = MCPServer("wordy", tool_timeout=30)

    def essay(topic: str) -> str:
        return topic

    essay.__doc__ = "Write about a topic. " + "It goes on and on about everything. " * 11
    assert len(essay.__doc__.strip()) > 400
    server.add_tool(essay)
    # fitted (the default): cut to 300, and the user is told what was cut and what to do
    fitted = server.action_schema(URL)
    op = fitted.document["paths"]["/tools/essay"]["post"]
    assert len(op["description"]) <= 300 and op["description"].endswith("…")
    assert op["summary"] == "Write about a topic."
    cut = only(fitted.findings, "description-cut")
    assert cut.severity == "warning" and cut.where == "POST /tools/essay"
    assert "ChatGPT allows 300" in cut.message and "first 300 characters" in cut.message
    assert fitted.ok
    # raw: the checker itself flags the broken limit
    raw, _ = build_schema(server.tools.values(), title="wordy", server_url=URL, fit=False)
    error = only(check_schema(raw), "description-length")
    assert error.severity == "error" and error.where == "POST /tools/essay"
    assert re.search(r"description is 4\d\d characters; ChatGPT allows at most 300", error.message)


def test_operation_ids_with_a_space_a_dot_and_a_duplicate() -> None:
    doc = minimal(
        **{
            "/weather": {"post": {"operationId": "get weather", "summary": "Weather.", "responses": {}}},
            "/w2": {"post": {"operationId": "dup", "summary": "One.", "responses": {}}},
            "/w3": {"get": {"operationId": "dup", "summary": "Two.", "responses": {}}},
            "/w4": {"post": {"summary": "No id.", "responses": {}}},
            "/w5": {"post": {"operationId": "x" * 65, "summary": "Long id.", "responses": {}}},
        }
    )
    findings = check_schema(doc)
    space = next(f for f in findings if f.code == "operation-id" and f.where == "POST /weather")
    assert space.severity == "error"
    assert "'get weather' is not allowed" in space.message and "1 to 64 letters, digits" in space.message
    assert "'get_weather'" in space.message  # what to rename it to
    duplicate = only(findings, "operation-id-duplicate")
    assert "'dup' is used by 2 operations" in duplicate.message and "POST /w2" in duplicate.where
    assert any(f.where == "POST /w4" and "no operationId" in f.message for f in findings)
    assert any(f.where == "POST /w5" and f.code == "operation-id" for f in findings)
    # a tool name MCP accepts but ChatGPT does not: made safe by default, flagged when raw
    server = MCPServer("dotted", tool_timeout=30)

    @server.tool(name="weather.get")
    def weather(city: str) -> str:
        """Weather for a city."""
        return city

    fitted = server.action_schema(URL)
    assert fitted.document["paths"]["/tools/weather.get"]["post"]["operationId"] == "weather_get"
    renamed = only(fitted.findings, "operation-id-renamed")
    assert renamed.severity == "info" and "'weather_get'" in renamed.message
    assert fitted.ok
    raw, _ = build_schema(server.tools.values(), title="dotted", server_url=URL, fit=False)
    error = only(check_schema(raw), "operation-id")
    assert "'weather.get' is not allowed" in error.message and "'weather_get'" in error.message


def test_parameter_descriptions_longer_than_700() -> None:
    server = MCPServer("params", tool_timeout=30)

    def search(query: str) -> str:
        return query

    search.__doc__ = "Search.\n\nArgs:\n    query: " + "A very long explanation. " * 40
    server.add_tool(search)
    fitted = server.action_schema(URL)
    prop = fitted.document["paths"]["/tools/search"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["properties"]["query"]
    assert len(prop["description"]) <= 700
    note = only(fitted.findings, "parameter-description-cut")
    assert "properties.query" in note.message and "700" in note.message
    raw, _ = build_schema(server.tools.values(), title="params", server_url=URL, fit=False)
    error = only(check_schema(raw), "parameter-description-length")
    assert error.where == "POST /tools/search: requestBody.properties.query"
    assert "ChatGPT allows at most 700" in error.message
    doc = minimal(
        **{
            "/q": {
                "get": {
                    "operationId": "q",
                    "summary": "Query.",
                    "parameters": [
                        {"name": "q", "in": "query", "description": "d" * 701, "schema": {"type": "string"}}
                    ],
                    "responses": {},
                }
            }
        }
    )
    assert (
        "parameter 'q' is 701 characters" in only(check_schema(doc), "parameter-description-length").message
    )


def test_server_url_rules() -> None:
    http = build_server(tool_timeout=30).action_schema("http://127.0.0.1:8000")
    finding = only(http.findings, "server-https")
    assert finding.severity == "warning" and http.ok
    assert "not https" in finding.message and "--url https://" in finding.message
    doc = minimal()
    del doc["servers"]
    assert only(check_schema(doc), "server-url").severity == "error"
    doc["servers"] = [{"url": "https://localhost:8443"}]
    assert "local address" in only(check_schema(doc), "server-url").message
    doc["servers"] = [{"url": "https://a.example"}, {"url": "https://b.example"}]
    assert "only the first" in only(check_schema(doc), "server-url").message
    doc["servers"] = [{"url": "https://a.example:8443"}]
    assert "port 8443" in only(check_schema(doc), "server-url").message
    doc["servers"] = [{"url": "/relative"}]
    assert "not absolute" in only(check_schema(doc), "server-url").message


def test_unsupported_schema_constructs() -> None:
    server = MCPServer("constructs", tool_timeout=30)

    @server.tool
    def pair(point: tuple[int, int]) -> int:
        """A tuple argument."""
        return point[0]

    @server.tool
    def counts(table: dict[str, int]) -> int:
        """A dict argument."""
        return len(table)

    report = server.action_schema(URL)
    tuple_warning = [f for f in report.findings if f.code == "unsupported-schema"]
    assert len(tuple_warning) == 1 and "POST /tools/pair" in tuple_warning[0].where
    assert "tuple (prefixItems)" in tuple_warning[0].message
    dict_warning = only(report.findings, "object-without-properties")
    assert dict_warning.where == "POST /tools/counts: requestBody.properties.table"
    assert (
        "'object schema missing properties'" in dict_warning.message and "TypedDict" in dict_warning.message
    )
    assert report.ok  # warnings: ChatGPT copes, the model just knows less
    # 3.0 has no prefixItems: converted to items, so no warning there
    assert "unsupported-schema" not in codes(server.action_schema(URL, openapi="3.0").findings)

    body = {"type": "object", "properties": {"tags": {"type": "array"}, "ext": {"$ref": "other.json#/X"}}}
    doc = minimal(
        **{
            "/a": {
                "post": {
                    "operationId": "a",
                    "summary": "A.",
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}
                            },
                        }
                    },
                }
            },
            "/b": {
                "post": {
                    "operationId": "b",
                    "summary": "B.",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "string"}}}},
                    "responses": {},
                }
            },
        }
    )
    findings = check_schema(doc)
    assert "array schema missing items" in only(findings, "array-without-items").message
    assert "outside the document" in only(findings, "external-ref").message
    assert "'#/components/schemas/Gone' points at nothing" in only(findings, "unresolved-ref").message
    assert "skips this operation" in only(findings, "request-not-object").message
    assert all(f.severity == "error" for f in findings if f.code != "server-url")


def test_a_30_document_with_31_keywords() -> None:
    doc = build_server(tool_timeout=30).action_schema(URL, openapi="3.0").document
    assert check_schema(doc) == []
    bad = copy.deepcopy(doc)
    bad["components"]["schemas"]["Node"]["properties"]["label"]["const"] = "root"
    bad["components"]["schemas"]["Point"]["properties"]["y"]["type"] = ["number", "null"]
    findings = [f for f in check_schema(bad) if f.code == "dialect"]
    assert {f.where for f in findings} == {
        "components.schemas.Node.properties.label",
        "components.schemas.Point.properties.y",
    }
    assert all(f.severity == "error" and "not OpenAPI 3.0" in f.message for f in findings)
    doc31 = build_server(tool_timeout=30).action_schema(URL).document
    doc31["components"]["schemas"]["Point"]["nullable"] = True
    assert "nullable is OpenAPI 3.0" in only(check_schema(doc31), "dialect").message


def test_document_size_security_and_basics() -> None:
    doc = build_server(tool_timeout=30).action_schema(URL).document
    size = only(check_schema(doc, max_document_chars=1000), "document-size")
    assert size.severity == "warning" and "keep it under 1,000" in size.message
    two = copy.deepcopy(doc)
    two["components"]["securitySchemes"] = {
        "ApiKeyAuth": {"type": "apiKey", "in": "query", "name": "key"},
        "Basic": {"type": "http", "scheme": "digest"},
    }
    messages = [f.message for f in check_schema(two) if f.code == "security"]
    assert any("takes one authentication type" in m for m in messages)
    assert any("in: header" in m for m in messages)
    assert any("Basic, Bearer or a custom header" in m for m in messages)
    oauth = copy.deepcopy(doc)
    oauth["components"]["securitySchemes"] = {
        "OAuth2": {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "https://auth.other.example/a",
                    "tokenUrl": f"{URL}/t",
                    "scopes": {},
                }
            },
        }
    }
    assert "same domain" in only(check_schema(oauth), "security").message
    assert only(check_schema({**doc, "openapi": "2.0"}), "openapi-version").severity == "error"
    assert only(check_schema({**doc, "paths": {}}), "no-operations").severity == "error"
    assert check_schema([]) == [Finding("error", "document", "(document)", "the schema is not a JSON object")]
    nodoc = {**doc, "info": {"title": "t"}}
    assert only(check_schema(nodoc), "info").where == "info.version"
    empty = copy.deepcopy(doc)
    empty["components"]["schemas"] = None
    assert "schemas subsection is not an object" in only(check_schema(empty), "components").message


def test_every_generated_schema_is_checked() -> None:
    server = many_tools(31)
    report = server.action_schema("http://example.com")
    assert "too-many-operations" in codes(report.findings, "error")
    assert "server-https" in codes(report.findings, "warning")
    assert report.findings == sorted(
        report.findings, key=lambda f: ["error", "warning", "info"].index(f.severity)
    )
    slow = MCPServer("slow")  # default tool_timeout 60 s > ChatGPT's 45 s
    note = only(slow.action_schema(URL).findings, "tool-timeout")
    assert note.severity == "info" and "45 s" in note.message and "tool_timeout=45" in note.message


def test_report_as_text_and_html() -> None:
    server = MCPServer("shown", tool_timeout=30)

    @server.tool(name="a.b")
    def ab(x: int) -> int:
        return x

    report = server.action_schema("http://127.0.0.1:8000")
    summary = report.summary()
    assert "1 operation(s), OpenAPI 3.1.0, server http://127.0.0.1:8000" in summary
    assert "warning: servers[0].url" in summary and "has no docstring" in summary
    page = render_report(report)
    assert report._repr_html_().startswith('<div class="nbmcp-schema">')
    assert "Copy</button>" in page and "navigator.clipboard.writeText" in page
    data = re.search(r'download="openapi.json" href="data:application/json;base64,([^"]+)"', page)
    assert data is not None and base64.b64decode(data.group(1)).decode() == report.text("json")
    assert html.escape(report.findings[0].message) in page
    pre = re.search(r"<pre id=\"nbmcp-schema-\w+\"[^>]*>(.*)</pre>", page, re.S)
    assert pre is not None and html.unescape(pre.group(1)) == report.text("json")
    yaml_page = render_report(report, "yaml")
    assert 'download="openapi.yaml"' in yaml_page and "application/yaml" in yaml_page
    clean = SchemaReport(build_server(tool_timeout=30).action_schema(URL).document, [])
    assert "No problems" in render_report(clean) and "ready: paste it into ChatGPT" in clean.summary()
    assert report.as_dict()["ok"] is True and report.as_dict()["findings"][0]["severity"] == "warning"


@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_hand_written_seed_envelope_schema_is_accepted(version: str) -> None:
    """The shape users wrote by hand (mcp-use's guide) passes the checker."""
    doc = {
        "openapi": version if version == "3.1.0" else "3.0.3",
        "info": {"title": "MCP", "version": "1.0"},
        "servers": [{"url": URL}],
        "paths": {
            "/mcp": {
                "post": {
                    "operationId": "callMCPTool",
                    "summary": "Call an MCP tool",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "jsonrpc": {"type": "string", "enum": ["2.0"]},
                                        "id": {"type": "integer"},
                                        "method": {"type": "string", "enum": ["tools/call"]},
                                        "params": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "arguments": {"type": "object", "properties": {}},
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    assert check_schema(doc) == []
