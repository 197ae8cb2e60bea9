"""Clients configured by a JSON file: Cursor, VS Code, Claude Desktop (through mcp-remote), Windsurf.

Each snippet is the whole file as its client documents it, with one entry for this server:

- Cursor, ``~/.cursor/mcp.json``: ``{"mcpServers": {NAME: {"url", "headers"}}}``; values
  interpolate ``${env:NAME}`` (cursor.com/docs/mcp).
- VS Code, ``.vscode/mcp.json``: ``{"servers": {NAME: {"type": "http", "url", "headers"}},
  "inputs": [...]}``; a ``promptString`` input with ``"password": true`` is asked once and
  stored securely, referenced as ``${input:ID}`` (code.visualstudio.com, MCP configuration
  reference).
- Windsurf, ``~/.codeium/windsurf/mcp_config.json``: ``{"mcpServers": {NAME: {"serverUrl",
  "headers"}}}``; ``serverUrl`` and ``headers`` interpolate ``${env:NAME}`` (docs.windsurf.com).
- Claude Desktop connects to no remote server from its config file, so the entry runs
  ``npx mcp-remote URL --header Authorization:${AUTH_HEADER}`` with the value in ``env``: the
  mcp-remote README's form, with no space inside the argument because Claude Desktop on
  Windows and Cursor do not quote arguments that contain one.

All four do OAuth themselves, so with OAuth alone there is no header; with a key (``"key"`` or
``"oauth+key"``) the key header is simpler for a desktop tool than a sign-in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from nbmcp.connect.entry import Entry, bearer, entry, json_text, key_step
from nbmcp.connect.target import ConnectTarget

__all__ = ["claude_desktop", "cursor", "vscode", "windsurf"]

_MERGE = "If the file exists, add the entry under its {key} object instead of replacing the file."


def _oauth_step(target: ConnectTarget, action: str) -> list[str]:
    return [f"The server uses OAuth: {action}, then approve on the consent page."] if target.oauth else []


def cursor(target: ConnectTarget) -> Entry:
    """Cursor: ``~/.cursor/mcp.json`` (or ``.cursor/mcp.json`` in a project)."""
    server: dict[str, Any] = {"url": target.url}
    if target.key:
        server["headers"] = {"Authorization": bearer("${env:" + target.key_env + "}")}
    steps = [
        "Open ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project) and paste the snippet.",
        _MERGE.format(key='"mcpServers"'),
    ]
    if target.key:
        steps.append(key_step(target) + " Start Cursor from a shell that has it set.")
    elif target.oauth:
        steps += _oauth_step(target, f"in Cursor Settings > MCP, click Connect next to {target.entry}")
    steps.append(f"Cursor Settings > MCP (Tools & MCP) lists {target.entry} with a green dot and its tools.")
    return entry(
        "Cursor",
        json_text({"mcpServers": {target.entry: server}}),
        steps,
        "json",
        "https://cursor.com/docs/mcp",
        file="~/.cursor/mcp.json",
    )


def vscode(target: ConnectTarget) -> Entry:
    """VS Code (Copilot agent mode): ``.vscode/mcp.json``, the key as a password input."""
    server: dict[str, Any] = {"type": "http", "url": target.url}
    document: dict[str, Any] = {"servers": {target.entry: server}}
    steps = [
        "Create .vscode/mcp.json in the workspace (or run 'MCP: Open User Configuration' for every "
        "workspace) and paste the snippet.",
        _MERGE.format(key='"servers" (and "inputs")'),
    ]
    if target.key:
        input_id = f"{target.entry}-api-key"
        server["headers"] = {"Authorization": bearer("${input:" + input_id + "}")}
        document["inputs"] = [
            {
                "type": "promptString",
                "id": input_id,
                "description": f"API key of the nbmcp server {target.name} (${target.key_env})",
                "password": True,
            }
        ]
        steps.append(
            "Click Start above the entry: VS Code asks for the key once and keeps it in its secret store."
        )
    else:
        document["inputs"] = []
        steps.append("Click Start above the entry.")
        steps += _oauth_step(target, "VS Code opens the sign-in page when the server starts")
    steps.append("In Copilot Chat's agent mode, the tools picker lists the server's tools.")
    return entry(
        "VS Code",
        json_text(document),
        steps,
        "json",
        "https://code.visualstudio.com/docs/copilot/reference/mcp-configuration",
        file=".vscode/mcp.json",
    )


def windsurf(target: ConnectTarget) -> Entry:
    """Windsurf (Cascade): ``~/.codeium/windsurf/mcp_config.json``, the URL as ``serverUrl``."""
    server: dict[str, Any] = {"serverUrl": target.url}
    if target.key:
        server["headers"] = {"Authorization": bearer("${env:" + target.key_env + "}")}
    steps = [
        "Windsurf Settings > Cascade > MCP Servers > View raw config opens "
        "~/.codeium/windsurf/mcp_config.json: paste the snippet.",
        _MERGE.format(key='"mcpServers"'),
    ]
    if target.key:
        steps.append(key_step(target) + " Start Windsurf from a shell that has it set.")
    else:
        steps += _oauth_step(target, "Windsurf opens the sign-in page when it connects")
    steps.append("Press refresh in the MCP panel; the server's tools appear in Cascade.")
    return entry(
        "Windsurf",
        json_text({"mcpServers": {target.entry: server}}),
        steps,
        "json",
        "https://docs.windsurf.com/windsurf/cascade/mcp",
        file="~/.codeium/windsurf/mcp_config.json",
    )


def claude_desktop(target: ConnectTarget) -> Entry:
    """Claude Desktop: ``claude_desktop_config.json`` running ``npx mcp-remote`` as a local bridge."""
    args = ["-y", "mcp-remote", target.url]
    parts = urlsplit(target.url)
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
        args.append("--allow-http")  # mcp-remote refuses plain http elsewhere than localhost
    server: dict[str, Any] = {"command": "npx", "args": args}
    steps = [
        "Claude Desktop: Settings > Developer > Edit Config opens claude_desktop_config.json "
        "(macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\): paste the snippet.",
        _MERGE.format(key='"mcpServers"'),
        "It needs Node.js (npx) on this machine: mcp-remote bridges Claude Desktop to the URL.",
    ]
    if target.key:
        args += ["--header", "Authorization:${AUTH_HEADER}"]  # no space: see the module docstring
        server["env"] = {"AUTH_HEADER": bearer(f"<your {target.key_env}>")}
        steps.append(
            f"Replace <your {target.key_env}> with the key (the owner key: server.access_key); "
            "the file then holds it, so keep it private."
        )
    else:
        steps += _oauth_step(target, "mcp-remote opens the sign-in page in the browser on first use")
    steps.append("Quit and reopen Claude Desktop; the tools appear under the tools (slider) menu.")
    if target.public and target.oauth:
        steps.append("Or, without Node: add the URL under Settings > Connectors, as for Claude.")
    return entry(
        "Claude Desktop",
        json_text({"mcpServers": {target.entry: server}}),
        steps,
        "json",
        "https://github.com/geelen/mcp-remote#readme",
        file="claude_desktop_config.json",
    )
