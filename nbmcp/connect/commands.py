"""Clients set up by a command line: Claude Code, the MCP Inspector, curl.

Each snippet is POSIX shell text that reads the key from ``$NBMCP_API_KEY`` (double quotes,
so the shell expands it; the key itself is never in the text):

- Claude Code: ``claude mcp add --transport http NAME URL --header "Authorization: Bearer ..."``
  (code.claude.com/docs/en/mcp; ``--header`` takes several values, so it comes last). Claude
  Code does OAuth itself (``/mcp`` > Authenticate), so OAuth alone needs no header.
- The Inspector (``@modelcontextprotocol/inspector`` 2.x): ``--cli URL --transport http
  --method tools/list --header "Name: Value"``; it runs an OAuth sign-in itself when asked.
- curl: ``initialize`` (keeping the ``Mcp-Session-Id`` the server answers with), the
  ``notifications/initialized`` notification, then ``tools/list``, each with ``Accept:
  application/json, text/event-stream``, ``Content-Type`` and ``MCP-Protocol-Version``.
  curl does no OAuth, so any protected server gets the header (a token works in it too).
"""

from __future__ import annotations

import json
import shlex

from nbmcp.connect.entry import Entry, bearer, entry, key_step
from nbmcp.connect.target import ConnectTarget

__all__ = ["PROTOCOL_VERSION", "claude_code", "curl", "inspector"]

PROTOCOL_VERSION = "2025-11-25"
"""The MCP revision the curl snippet speaks (the newest nbmcp serves)."""


def _auth_header(target: ConnectTarget) -> str:
    """``"Authorization: Bearer ${NBMCP_API_KEY}"``, quoted for the shell so it expands there."""
    return '"Authorization: ' + bearer(target.env_ref) + '"'


def claude_code(target: ConnectTarget) -> Entry:
    """Claude Code: one ``claude mcp add`` command."""
    line = f"claude mcp add --transport http {shlex.quote(target.entry)} {shlex.quote(target.url)}"
    steps = ["Run the command in a terminal (add --scope user to have the server in every project)."]
    if target.key:
        line += f" --header {_auth_header(target)}"
        steps.insert(0, key_step(target) + " The shell puts it in the command; Claude Code stores it.")
    elif target.oauth:
        steps.append("In Claude Code, run /mcp, pick the server and choose Authenticate (OAuth sign-in).")
    steps.append(f"claude mcp list shows {target.entry} as connected; /mcp lists its tools.")
    return entry("Claude Code", line, steps, "shell", "https://code.claude.com/docs/en/mcp")


def inspector(target: ConnectTarget) -> Entry:
    """The MCP Inspector's CLI: list the tools once."""
    line = (
        f"npx @modelcontextprotocol/inspector --cli {shlex.quote(target.url)} "
        "--transport http --method tools/list"
    )
    steps = ["It needs Node.js 22 or newer; run the command in a terminal: it prints the tools as JSON."]
    if target.key:
        line += f" --header {_auth_header(target)}"
        steps.insert(0, key_step(target))
    elif target.oauth:
        steps.append("The server uses OAuth: the Inspector opens the sign-in page and waits for it.")
    steps.append(
        "For its web UI, run npx @modelcontextprotocol/inspector, choose Streamable HTTP, paste "
        f"{target.url}" + (" and add the Authorization header" if target.key else "") + ", then Connect."
    )
    return entry(
        "MCP Inspector",
        line,
        steps,
        "shell",
        "https://modelcontextprotocol.io/docs/tools/inspector",
    )


def _rpc(message: dict[str, object]) -> str:
    return shlex.quote(json.dumps(message, separators=(",", ":")))


def curl(target: ConnectTarget) -> Entry:
    """curl: initialize, then list the tools on the session the server opened."""
    url = shlex.quote(target.url)
    common = [
        "-H 'Accept: application/json, text/event-stream'",
        "-H 'Content-Type: application/json'",
        f"-H 'MCP-Protocol-Version: {PROTOCOL_VERSION}'",
    ]
    if target.auth != "none":
        common.append(f"-H {_auth_header(target)}")
    init = _rpc(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "curl", "version": "1.0"},
            },
        }
    )
    cont = " \\\n  "
    session = [*common, '-H "Mcp-Session-Id: $SID"']
    lines = [
        f"SID=$(curl -sS -D - -o /dev/null {url}{cont}"
        + cont.join([*common, f"-d {init}"])
        + cont
        + "| tr -d '\\r' | awk -F': ' 'tolower($1) == \"mcp-session-id\" {print $2}')",
        f"curl -sS -o /dev/null {url}{cont}"
        + cont.join([*session, "-d " + _rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})]),
        f"curl -sS {url}{cont}"
        + cont.join([*session, "-d " + _rpc({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})]),
    ]
    steps = ["Paste the three commands into a POSIX shell (bash, zsh; Git Bash or WSL on Windows)."]
    if target.key:
        steps.insert(0, key_step(target))
    elif target.oauth:
        steps.insert(0, f"curl does no OAuth sign-in: put an access token in {target.key_env} first.")
    steps.append("The last one prints the tools/list answer (JSON, or one SSE data: line).")
    return entry(
        "curl",
        "\n".join(lines),
        steps,
        "shell",
        "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports",
    )
