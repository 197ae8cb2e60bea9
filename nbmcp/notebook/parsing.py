"""The argument grammar of ``%mcp`` and ``%%mcp_tool``, and the help text ``%mcp?`` shows.

Arguments are split like a POSIX shell (``'{"a": 1}'`` stays one JSON argument); every
mistake is a one-line :class:`UsageError` naming the subcommand.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

import orjson
from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

__all__ = ["RESERVED", "call_arguments", "mcp_help", "mcp_parser", "split"]

RESERVED: dict[str, str] = {}
"""Subcommands that later releases fill (name -> what it will do); calling one now says so."""


class Parser(MagicArgumentParser):
    """argparse that raises ``UsageError("%mcp start: ...")`` instead of exiting."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    def error(self, message: str) -> Any:
        raise UsageError(f"%{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        raise UsageError(f"%{self.prog}: {message or 'stopped'}".strip())


def split(line: str, prog: str) -> list[str]:
    """Shell-like split of a magic's line."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{prog}: {exc} (check the quotes)") from None


def mcp_parser() -> Parser:
    """The parser of ``%mcp COMMAND ...``."""
    parser = Parser(prog="mcp", description="Serve this notebook's tools over MCP.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    start = sub.add_parser(
        "start",
        help="serve the tools at http://HOST:PORT/mcp (idempotent; prints the URL)",
        description="Serve the tools from a background thread; the kernel stays free. Running it "
        "again while serving changes nothing, or moves the server to a new --host/--port.",
    )
    start.add_argument("--host", default=None, help="interface to bind (default NbmcpMagics.host, 127.0.0.1)")
    start.add_argument(
        "--port", type=int, default=None, help="port (default NbmcpMagics.port, 8000; 0 picks a free one)"
    )
    start.add_argument(
        "--api-key",
        default=None,
        help="require this key (X-API-Key or Bearer); default NbmcpMagics.api_key or $NBMCP_API_KEY",
    )
    start.add_argument(
        "--oauth",
        action="store_true",
        help="turn on the built-in OAuth server (for ChatGPT and Claude connectors); the owner key "
        "approves clients, and one is generated (shown masked) when none is set",
    )
    sub.add_parser("stop", help="stop serving and free the port", description="Stop serving; tools stay.")
    approve = sub.add_parser(
        "approve",
        help="approve an OAuth client waiting on its consent page (the page shows the code)",
        description="With CODE: approve the client whose consent page shows that code, then press "
        "Continue on the page. Without: list the clients waiting, with where each is sent back to.",
    )
    approve.add_argument("code", metavar="CODE", nargs="?", default=None, help="the code on the consent page")
    sub.add_parser("status", help="URL, tools, sessions, calls, and the server's log")
    sub.add_parser("tools", help="a table of the tools, with their calls and errors")
    call = sub.add_parser(
        "call",
        help="call a tool through the same path a client takes",
        description="Call NAME with a JSON object ('{\"a\": 1}') or key=value pairs (a=1 b=x); "
        "shows the result and what the tool printed.",
    )
    call.add_argument("name", metavar="NAME", help="the tool's name")
    call.add_argument("arguments", metavar="ARGUMENTS", nargs="*", help="a JSON object, or key=value pairs")
    remove = sub.add_parser("remove", help="unregister a tool (clients are told)")
    remove.add_argument("name", metavar="NAME", help="the tool's name")
    schema = sub.add_parser(
        "schema",
        help="the ChatGPT Action (OpenAPI) schema of the tools, checked against ChatGPT's limits",
        description="Show the Action schema to paste into a Custom GPT, with what breaks ChatGPT's "
        "limits, a copy button and a download link. The value returned is the report "
        "(.document, .findings, .text()).",
    )
    schema.add_argument(
        "--url",
        default=None,
        help="the public https URL to name in `servers` (default: the published URL, else the local one)",
    )
    schema.add_argument(
        "--openapi",
        choices=("3.1", "3.1.0", "3.0"),
        default="3.1.0",
        help="OpenAPI version (3.1.0 by default; 3.0 for older importers)",
    )
    schema.add_argument(
        "--envelope",
        action="store_true",
        help="one callMCPTool operation posting JSON-RPC to /mcp (for more than 30 tools)",
    )
    schema.add_argument(
        "--auth",
        choices=("header", "bearer", "oauth", "none"),
        default=None,
        help="the security scheme to declare (default: what the server requires)",
    )
    publish = sub.add_parser(
        "publish",
        help="a public HTTPS URL for this server through a tunnel (ngrok or cloudflared), with OAuth on",
        description="Open a tunnel to the running server (starting it if needed) and print the public "
        "https URL once it answers. Publishing turns on the built-in OAuth server (ChatGPT and Claude "
        "connectors need it) unless --no-auth; an API key you set stays valid beside it. Running it "
        "again while published prints the same URL. The provider: ngrok when NGROK_AUTHTOKEN (or "
        "pyngrok's config) holds a token, else cloudflared when its binary is on PATH.",
    )
    publish.add_argument(
        "--provider",
        choices=("ngrok", "cloudflared"),
        default=None,
        help="the tunnel (default: ngrok with a token configured, else cloudflared if installed)",
    )
    publish.add_argument(
        "--domain", default=None, help="a reserved ngrok domain (e.g. my-notebook.ngrok.app)"
    )
    publish.add_argument(
        "--no-auth",
        action="store_true",
        help="do not turn on OAuth: anyone with the URL can call the tools (a loud warning)",
    )
    sub.add_parser(
        "unpublish",
        help="close the tunnel; the server keeps serving locally",
        description="Close the tunnel, drop the public host, and put back what publishing turned on.",
    )
    connect = sub.add_parser(
        "connect",
        help="how to add this server to ChatGPT, Claude, Cursor, VS Code... (a copy button each)",
        description="Ready-to-paste settings for each client, with the current public URL (else the "
        "local one) and the auth the server needs; keys are referred to by environment variable.",
    )
    connect.add_argument(
        "--client", default=None, help="only this client (chatgpt, claude, cursor, vscode, ...)"
    )
    sub.add_parser(
        "stats",
        help="usage statistics as a text table: calls, errors, p50/p95/p99 per tool, clients, last hour",
        description="Totals since the server was built, latency percentiles over each tool's last "
        "1,000 calls, calls per client and principal, and the calls of the last minutes. The value "
        "returned is the table; server.stats() gives the same figures as a dict.",
    )
    sub.add_parser(
        "monitor",
        help="the live dashboard: server, tools (with a try-it form), the call feed, charts, schema, connect",
        description="One widget that follows the server live: its URLs and clients, every tool with "
        "its figures and a form to call it, the calls as they come (in flight marked, errors "
        "highlighted), calls and latency over time, the Action schema and the connect settings. "
        "server.dashboard() returns the same widget.",
    )
    for name, what in RESERVED.items():
        sub.add_parser(name, help=f"{what} (not there yet)", add_help=False)
    sub.add_parser("help", help="this help; `%%mcp help COMMAND` for one command")
    return parser


def mcp_help(parser: Parser) -> str:
    """The docstring of ``%mcp``: the overview, then every subcommand with its flags."""
    sections = [parser.format_help().rstrip()]
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in actions[0].choices.items() if actions else []:
        if name in RESERVED or name == "help":
            continue
        sections.append(sub.format_help().rstrip())
    settings = (
        "Settings (%config NbmcpMagics.port = 8765): name, host, port, api_key, tool_timeout, freeze_gc."
    )
    if RESERVED:
        settings += "\nNot there yet: " + ", ".join(f"%mcp {n}" for n in RESERVED) + "."
    sections.append(settings)
    return "\n\n".join(sections)


def subcommand_help(parser: Parser, name: str) -> str:
    """The help of one subcommand (``%mcp start --help``)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = actions[0].choices.get(name) if actions else None
    if sub is None:
        raise UsageError(f"%mcp help: no command {name!r}; %mcp help lists them")
    return str(sub.format_help()).rstrip()


def call_arguments(tokens: list[str]) -> dict[str, Any]:
    """``'{"a": 1}'`` or ``a=1 b=x`` as a dict (values that parse as JSON are taken as JSON)."""
    if not tokens:
        return {}
    if len(tokens) == 1 and tokens[0].lstrip().startswith("{"):
        try:
            value = orjson.loads(tokens[0])
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"%mcp call: the arguments are not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise UsageError("%mcp call: the arguments must be a JSON object")
        return value
    arguments: dict[str, Any] = {}
    for token in tokens:
        key, sep, raw = token.partition("=")
        if not sep or not key:
            raise UsageError(f"%mcp call: {token!r} is neither a JSON object nor key=value")
        try:
            arguments[key] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            arguments[key] = raw
    return arguments
