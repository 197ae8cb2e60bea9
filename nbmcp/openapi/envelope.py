"""The envelope form: one ``callMCPTool`` operation that POSTs a JSON-RPC ``tools/call`` to ``/mcp``.

This is the shape people wrote by hand before (one operation, ``params.name`` naming the
tool), kept for servers with more tools than an Action allows. ``params.name`` is an enum
of the tools; its description lists what each does, and ``params.arguments`` lists every
argument any tool takes (a name that two tools type differently is left untyped), so the
model has the names and types it needs without a second operation.
"""

from __future__ import annotations

from typing import Any

from nbmcp.openapi import shapes
from nbmcp.openapi.document import SchemaBuild, cut_text
from nbmcp.openapi.findings import Finding
from nbmcp.openapi.limits import MAX_PARAMETER_DESCRIPTION, MAX_SUMMARY
from nbmcp.tools import Tool

__all__ = ["ENVELOPE_OPERATION_ID", "envelope_paths"]

ENVELOPE_OPERATION_ID = "callMCPTool"

_WHERE = "POST /mcp"


def _catalog(tools: list[Tool]) -> str:
    lines = []
    for tool in tools:
        about = (tool.title or tool.description or "").strip().split("\n", 1)[0].rstrip(".")
        lines.append(f"{tool.name}: {about}" if about else tool.name)
    return "The tool to call. " + "; ".join(lines)


def _merged_arguments(tools: list[Tool], build: SchemaBuild) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    users: dict[str, list[str]] = {}
    for tool in tools:
        schema = build.schema(tool.args.schema, _WHERE, f"{tool.name!r} argument", convert=False)
        for name, prop in (schema.get("properties") or {}).items():
            users.setdefault(name, []).append(tool.name)
            if name not in properties:
                properties[name] = dict(prop)
            elif properties[name].get("type") != prop.get("type") or properties[name].get("$ref") != prop.get(
                "$ref"
            ):
                properties[name] = {}
    for name, prop in properties.items():
        who = ", ".join(users[name])
        text = f"({who}) {prop.get('description', '')}".strip()
        prop["description"] = cut_text(text, MAX_PARAMETER_DESCRIPTION) if build.fit else text
    return {
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
        "description": "The chosen tool's arguments, by name; each argument says which tools take it.",
    }


def envelope_paths(tools: list[Tool], build: SchemaBuild, auth: bool) -> dict[str, Any]:
    """``{"/mcp": {"post": callMCPTool}}`` for ``tools``."""
    names = [t.name for t in tools]
    catalog = _catalog(tools)
    if build.fit and len(catalog) > MAX_PARAMETER_DESCRIPTION:
        build.notes.append(
            Finding(
                "info",
                "catalog-cut",
                _WHERE,
                f"the list of {len(tools)} tools in params.name is longer than {MAX_PARAMETER_DESCRIPTION} "
                "characters and was cut; the enum still names every tool",
            )
        )
        catalog = cut_text(catalog, MAX_PARAMETER_DESCRIPTION)
    request = shapes.json_rpc_request_schema(names, catalog, _merged_arguments(tools, build))
    response_ref = build.components.put("JsonRpcResponse", build.convert(shapes.json_rpc_response_schema()))
    # A batch (a JSON array) is answered with an array of answers.
    either = {"anyOf": [{"$ref": response_ref}, {"type": "array", "items": {"$ref": response_ref}}]}
    answer = {"application/json": {"schema": either}}
    responses: dict[str, Any] = {
        "200": {
            "description": "The JSON-RPC answer: result (isError tells a failed tool) or error.",
            "content": answer,
        },
        "202": {"description": "Accepted: the message was a notification (no id), so no answer."},
        "400": {"description": "Not valid JSON-RPC (a JSON-RPC error object).", "content": answer},
    }
    if auth:
        responses["401"] = {"description": "Missing or wrong API key."}
    responses["default"] = {"description": "Any other refusal (a JSON-RPC error object).", "content": answer}
    op: dict[str, Any] = {
        "operationId": ENVELOPE_OPERATION_ID,
        "summary": "Call one of the server's tools (MCP tools/call)",
        "description": cut_text(
            f"Runs the tool named in params.name with params.arguments. {len(tools)} tools: "
            + ", ".join(names),
            MAX_SUMMARY,
        ),
    }
    if tools and all(t.annotations.get("readOnlyHint") is True for t in tools):
        op["x-openai-isConsequential"] = False
    op["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": build.convert(request)}},
    }
    op["responses"] = responses
    return {"/mcp": {"post": op}}
