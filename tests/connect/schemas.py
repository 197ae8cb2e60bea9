"""JSON Schemas of each file-based client's config, written from that client's own docs.

- Cursor (cursor.com/docs/mcp): ``{"mcpServers": {NAME: {"url", "headers"?}}}``, values may
  use ``${env:NAME}``.
- VS Code (code.visualstudio.com/docs/copilot/reference/mcp-configuration): ``{"servers":
  {NAME: {"type": "http", "url", "headers"?}}, "inputs": [{"type": "promptString", "id",
  "description", "password": true}]}``, values may use ``${input:ID}``.
- Windsurf (docs.windsurf.com/windsurf/cascade/mcp): ``{"mcpServers": {NAME: {"serverUrl",
  "headers"?}}}``, ``serverUrl``/``headers`` may use ``${env:NAME}``; a Cursor-style ``url``
  is another field, not this one.
- Claude Desktop through mcp-remote (its README): ``{"mcpServers": {NAME: {"command": "npx",
  "args": [..., "mcp-remote", URL, "--header", "Authorization:${AUTH_HEADER}"], "env":
  {"AUTH_HEADER": "Bearer ..."}}}}``, with no space inside any argument.

Each schema is for one server entry named ``name`` at ``url``; ``key`` says whether the entry
must carry the key header (referenced, never written) or must carry none.
"""

from __future__ import annotations

import re
from typing import Any

ENTRY_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"


def _single(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name],
        "additionalProperties": False,
        "propertyNames": {"pattern": ENTRY_NAME},
        "properties": {name: entry},
    }


def _headers(value_pattern: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Authorization"],
        "additionalProperties": False,
        "properties": {"Authorization": {"type": "string", "pattern": value_pattern}},
    }


def _no(field: str) -> dict[str, Any]:
    return {"not": {"required": [field]}}


def cursor(name: str, url: str, key: bool, env: str = "NBMCP_API_KEY") -> dict[str, Any]:
    server: dict[str, Any] = {
        "type": "object",
        "required": ["url", *(["headers"] if key else [])],
        "additionalProperties": False,
        "properties": {
            "url": {"const": url},
            "headers": _headers(r"^Bearer \$\{env:" + re.escape(env) + r"\}$"),
        },
        **({} if key else _no("headers")),
    }
    return {
        "type": "object",
        "required": ["mcpServers"],
        "additionalProperties": False,
        "properties": {"mcpServers": _single(name, server)},
    }


def windsurf(name: str, url: str, key: bool, env: str = "NBMCP_API_KEY") -> dict[str, Any]:
    server: dict[str, Any] = {
        "type": "object",
        "required": ["serverUrl", *(["headers"] if key else [])],
        "additionalProperties": False,
        "properties": {
            "serverUrl": {"const": url},
            "headers": _headers(r"^Bearer \$\{env:" + re.escape(env) + r"\}$"),
        },
        **({} if key else _no("headers")),
    }
    return {
        "type": "object",
        "required": ["mcpServers"],
        "additionalProperties": False,
        "properties": {"mcpServers": _single(name, server)},
    }


def vscode(name: str, url: str, key: bool) -> dict[str, Any]:
    server: dict[str, Any] = {
        "type": "object",
        "required": ["type", "url", *(["headers"] if key else [])],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "http"},
            "url": {"const": url},
            "headers": _headers(r"^Bearer \$\{input:[A-Za-z0-9_.-]+\}$"),
        },
        **({} if key else _no("headers")),
    }
    prompt = {
        "type": "object",
        "required": ["type", "id", "description", "password"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "promptString"},
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"},
            "description": {"type": "string", "minLength": 1},
            "password": {"const": True},
        },
    }
    inputs: dict[str, Any] = {"type": "array", "items": prompt}
    inputs.update({"minItems": 1, "maxItems": 1} if key else {"maxItems": 0})
    return {
        "type": "object",
        "required": ["servers"],
        "additionalProperties": False,
        "properties": {"servers": _single(name, server), "inputs": inputs},
    }


def claude_desktop(name: str, url: str, key: bool) -> dict[str, Any]:
    no_space = {"type": "string", "pattern": r"^\S+$"}
    args: dict[str, Any] = {
        "type": "array",
        "items": no_space,
        "prefixItems": [{"const": "-y"}, {"const": "mcp-remote"}, {"const": url}],
        "minItems": 3,
    }
    if key:
        args["contains"] = {"const": "--header"}
    else:
        args["not"] = {"contains": {"const": "--header"}}
    server: dict[str, Any] = {
        "type": "object",
        "required": ["command", "args", *(["env"] if key else [])],
        "additionalProperties": False,
        "properties": {
            "command": {"const": "npx"},
            "args": args,
            "env": {
                "type": "object",
                "required": ["AUTH_HEADER"],
                "additionalProperties": False,
                "properties": {"AUTH_HEADER": {"type": "string", "pattern": r"^Bearer \S"}},
            },
        },
        **({} if key else _no("env")),
    }
    return {
        "type": "object",
        "required": ["mcpServers"],
        "additionalProperties": False,
        "properties": {"mcpServers": _single(name, server)},
    }


HEADER_TAIL = ["--header", "Authorization:${AUTH_HEADER}"]
"""How mcp-remote's args end when the key goes along (checked beside the schema)."""
