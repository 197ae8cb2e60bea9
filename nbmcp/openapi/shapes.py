"""nbmcp's own JSON shapes in the schema: error bodies, and results of tools with no return type.

Written once in OpenAPI 3.1 form (JSON Schema 2020-12); the 3.0 document converts them like
any other schema. The REST facade (``nbmcp.http.rest``) answers with exactly these shapes.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_TYPES",
    "error_schema",
    "json_rpc_request_schema",
    "json_rpc_response_schema",
    "media_schema",
    "tool_output_schema",
    "validation_issue_schema",
]

ERROR_TYPES: tuple[str, ...] = (
    "tool_error",
    "invalid_arguments",
    "unknown_tool",
    "unauthorized",
    "forbidden",
    "misdirected",
    "payload_too_large",
    "unsupported_media_type",
    "method_not_allowed",
    "internal_error",
)


def validation_issue_schema() -> dict[str, Any]:
    """One problem with the arguments (pydantic's error, without the input echoed back)."""
    return {
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "description": "Path to the bad value: argument name, then keys or list indexes.",
            },
            "msg": {"type": "string", "description": "What is wrong with it."},
            "type": {"type": "string", "description": "Machine-readable kind, e.g. missing, int_parsing."},
        },
    }


def error_schema(issue_ref: str) -> dict[str, Any]:
    """Every non-2xx body of the REST facade."""
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, in words the model can act on."},
            "type": {"type": "string", "description": "The kind of error: " + ", ".join(ERROR_TYPES) + "."},
            "tool": {"type": "string", "description": "The tool that was called."},
            "detail": {
                "type": "array",
                "items": {"$ref": issue_ref},
                "description": "For invalid_arguments: one entry per problem.",
            },
        },
    }


def media_schema() -> dict[str, Any]:
    """An image or audio clip, base64-encoded."""
    return {
        "type": "object",
        "required": ["data", "mimeType"],
        "properties": {
            "data": {
                "type": "string",
                "contentEncoding": "base64",
                "description": "The bytes, base64-encoded.",
            },
            "mimeType": {"type": "string", "description": "e.g. image/png."},
        },
    }


def tool_output_schema(media_ref: str) -> dict[str, Any]:
    """The body of a tool that declares no return type: its text, data and media."""
    return {
        "type": "object",
        "description": "What the tool returned: its text, its data when it returned JSON-like values, "
        "and images or audio as base64.",
        "properties": {
            "text": {"type": "string", "description": "The tool's text output."},
            "data": {
                "type": "object",
                "additionalProperties": True,
                "description": "The tool's result as JSON when it returned data (non-object values "
                'come as {"result": value}).',
            },
            "images": {"type": "array", "items": {"$ref": media_ref}, "description": "Images, base64."},
            "audio": {"type": "array", "items": {"$ref": media_ref}, "description": "Audio clips, base64."},
            "resources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {
                        "uri": {"type": "string"},
                        "mimeType": {"type": "string"},
                        "text": {"type": "string"},
                        "blob": {"type": "string", "contentEncoding": "base64"},
                    },
                },
                "description": "Embedded resources (text, or a base64 blob).",
            },
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["uri", "name"],
                    "properties": {
                        "uri": {"type": "string"},
                        "name": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "mimeType": {"type": "string"},
                    },
                },
                "description": "Links to resources.",
            },
        },
    }


def json_rpc_request_schema(names: list[str], name_help: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The body of the envelope form's single operation: a JSON-RPC ``tools/call``."""
    return {
        "type": "object",
        "required": ["jsonrpc", "id", "method", "params"],
        "properties": {
            "jsonrpc": {"type": "string", "enum": ["2.0"], "description": 'Always "2.0".'},
            "id": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2147483647,
                "description": "Any number; the answer carries it back.",
            },
            "method": {"type": "string", "enum": ["tools/call"], "description": 'Always "tools/call".'},
            "params": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "enum": names, "description": name_help},
                    "arguments": arguments,
                },
            },
        },
    }


def json_rpc_response_schema() -> dict[str, Any]:
    """What ``/mcp`` answers a plain ``tools/call`` POST with."""
    return {
        "type": "object",
        "required": ["jsonrpc"],
        "properties": {
            "jsonrpc": {"type": "string"},
            "id": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            "result": {
                "type": "object",
                "description": "The tool's answer: content blocks, structuredContent, isError.",
                "properties": {
                    "content": {
                        "type": "array",
                        "items": {"type": "object", "additionalProperties": True},
                        "description": 'Content blocks, e.g. {"type": "text", "text": "..."}.',
                    },
                    "structuredContent": {"type": "object", "additionalProperties": True},
                    "isError": {"type": "boolean", "description": "true when the tool failed."},
                },
            },
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "data": {},
                },
            },
        },
    }
