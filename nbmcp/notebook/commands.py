"""What each ``%mcp`` subcommand does, on the kernel's one server.

Each ``cmd_*`` takes the magics' settings (:class:`MagicsSettings`, which the magics object
is) and the parsed arguments; a mistake raises a one-line :class:`UsageError`.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Any, Protocol

from IPython.core.error import UsageError

from nbmcp.config import is_loopback
from nbmcp.errors import PortInUseError, ServerStartError, UnknownToolError
from nbmcp.notebook.capture import SERVER_LOG
from nbmcp.notebook.display import CallResult, Status, Table, connection_lines, tool_rows
from nbmcp.notebook.kernel import main_thread_executor
from nbmcp.notebook.parsing import RESERVED, call_arguments
from nbmcp.notebook.publish_commands import publish_facts
from nbmcp.notebook.toolcell import MAIN_THREAD_ATTR

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = [
    "MagicsSettings",
    "apply_timeout",
    "cmd_approve",
    "cmd_call",
    "cmd_remove",
    "cmd_start",
    "cmd_status",
    "cmd_stop",
    "cmd_tools",
    "reserved",
    "start_for_publish",
    "status",
]

_HOPS = 20
"""How many ports after the default one ``%mcp start`` tries when the default is taken."""


_TYPED_KEY = (
    "nbmcp: note: a key typed in a cell is saved in the notebook file and its history; "
    "set NBMCP_API_KEY in the environment Jupyter starts from instead"
)


class MagicsSettings(Protocol):
    """What the subcommands read and keep on the magics object (``NbmcpMagics`` is one)."""

    host: str
    port: int
    api_key: str | None
    freeze_gc: bool
    port_chosen: bool
    serving: bool
    main_thread_tools: set[str]

    @property
    def server(self) -> MCPServer: ...


def apply_timeout(server: MCPServer, seconds: float) -> None:
    """Set the per-call timeout (``0`` or less: none)."""
    server.config.tool_timeout = seconds if seconds > 0 else None


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _start_on(server: MCPServer, host: str, port: int, hop: bool) -> tuple[str, str]:
    try:
        return server.start(host, port), ""
    except PortInUseError as exc:
        if not hop or port == 0:
            raise UsageError(f"%mcp start: {exc} (`%mcp start --port 0` picks a free one)") from None
    except ServerStartError as exc:
        raise UsageError(f"%mcp start: {exc}") from None
    for candidate in [*range(port + 1, port + 1 + _HOPS), 0]:
        try:
            url = server.start(host, candidate)
        except PortInUseError:
            continue
        except ServerStartError as exc:
            raise UsageError(f"%mcp start: {exc}") from None
        return url, f"  (port {port} is taken, so this server took {server.port})"
    raise UsageError(f"%mcp start: no free port near {port}")  # pragma: no cover - port 0 never fails so


def cmd_start(magics: MagicsSettings, args: Any) -> Any:
    """``%mcp start [--host H] [--port P] [--api-key K]``."""
    server = magics.server
    key = args.api_key if args.api_key is not None else magics.api_key
    if key is not None:
        server.config.api_key = key or None  # read per request: takes effect at once
        if key:
            print(_TYPED_KEY)
    if getattr(args, "oauth", False) and server.token_verifier is None:
        server._use_auth("oauth")  # read per request: takes effect at once
    if magics.serving:
        given = [flag for flag, value in (("--host", args.host), ("--port", args.port)) if value is not None]
        note = f" ({' and '.join(given)} ignored: the nbmcp serve command line sets them)" if given else ""
        print(f"nbmcp: serving at {server.start()}{note}")
        return
    host = args.host or magics.host
    explicit = args.port is not None or magics.port_chosen
    port = args.port if args.port is not None else magics.port
    if server.url is not None:
        moving = host != server.config.host or (explicit and port not in (0, server.port))
        if not moving:
            tools = _count(len(server.tools), "tool")
            print(f"nbmcp: already serving {server.name!r} ({tools}) at {server.url}")
            return
        server.stop()
    url, hopped = _start_on(server, host, port, hop=not explicit)
    if magics.freeze_gc:
        gc.freeze()  # O(1); see NbmcpMagics.freeze_gc
    lines = [f"nbmcp: serving {server.name!r} ({_count(len(server.tools), 'tool')}) at {url}"]
    if hopped:
        lines.append(hopped)
    if server.config.requires_key:
        lines.append("  clients must send the key: X-API-Key: <key> or Authorization: Bearer <key>")
    if not is_loopback(host) and "*" not in server.config.allowed_hosts:
        lines.append(
            f"  bound to {host}: requests must name an allowed Host; add the names clients use to "
            "nbmcp.current_server().config.allowed_hosts ('*' allows any)"
        )
    oauth_on = server.oauth is not None and server.token_verifier is server.oauth
    if oauth_on:
        lines += oauth_lines(server)
    lines += connection_lines(server.name, url, server.config.requires_key)
    print("\n".join(lines))
    if oauth_on:
        from nbmcp.notebook.secret_view import OwnerKey  # lazy: anywidget only once OAuth is on

        return OwnerKey.of(server)
    return None


def start_for_publish(magics: MagicsSettings) -> None:
    """Start the server as a bare ``%mcp start`` would (``%mcp publish`` on a stopped server)."""
    import argparse

    cmd_start(magics, argparse.Namespace(host=None, port=None, api_key=None, oauth=False))


def mask(key: str | None) -> str:
    """A key as a cell may show it: its last four characters only (outputs are saved)."""
    return f"\u2022\u2022\u2022\u2022{key[-4:]}" if key and len(key) > 8 else "\u2022\u2022\u2022\u2022"


def oauth_lines(server: MCPServer) -> list[str]:
    """What ``%mcp start --oauth`` says: how clients are approved, the owner key masked."""
    made = "generated for this kernel" if server.oauth.generated_key else "yours"
    return [
        "  OAuth on: ChatGPT and Claude connectors sign in with this URL; approve each on its consent page",
        f"  with the owner key ({mask(server.access_key)}, {made}; Reveal or Copy it below)",
        "  or `%mcp approve CODE` here",
    ]


def cmd_approve(magics: MagicsSettings, args: Any) -> None:
    """``%mcp approve [CODE]``: approve a waiting OAuth client, or list those waiting."""
    oauth = magics.server.oauth
    if oauth is None:
        raise UsageError("%mcp approve: OAuth is off (`%mcp start --oauth` turns it on)")
    if args.code is None:
        waiting = oauth.waiting()
        if not waiting:
            print("nbmcp: no client is waiting for approval")
        for pending in waiting:
            print(f"nbmcp: waiting: {pending.describe()}")
        return
    pending = oauth.approve(args.code)
    if pending is None:
        raise UsageError(f"%mcp approve: no consent page shows {args.code!r} (expired, or already answered)")
    name = pending.client.name or "an unnamed client"
    print(
        f"nbmcp: approved {name!r} (the name it gave itself), sent back to {pending.redirect_host}; "
        "press Continue on its page"
    )


def cmd_stop(magics: MagicsSettings, args: Any) -> None:
    """``%mcp stop``: free the port; the tools stay registered."""
    server = magics.server
    if magics.serving:
        print("nbmcp: %mcp stop ignored: nbmcp serve stops when you press Ctrl-C")
        return
    port = server.port if server.url else None
    server.stop()
    print(f"nbmcp: stopped; port {port} is free" if port else "nbmcp: not serving")


def status(magics: MagicsSettings) -> Status:
    """The facts ``%mcp status`` shows."""
    server = magics.server
    state = f"serving at {server.url}" if server.url else server.state.value.replace("new", "not started")
    stats = server.monitor.stats
    calls = sum(s.calls for s in stats.values())
    errors = sum(s.errors for s in stats.values())
    timeout = server.config.tool_timeout
    facts = [
        ("server", server.name),
        ("state", state),
        ("tools", ", ".join(server.tools) or "none yet (%%mcp_tool)"),
        ("sessions", str(len(server.engine.sessions))),
        ("calls", f"{calls} ({_count(errors, 'error')})"),
        ("tool timeout", f"{timeout:g} s" if timeout else "none"),
        ("api key", "required" if server.config.requires_key else "none (loopback only by default)"),
        *publish_facts(server),
    ]
    if magics.main_thread_tools:
        facts.append(("main-thread tools", ", ".join(sorted(magics.main_thread_tools))))
    return Status(facts, list(SERVER_LOG)[-10:])


def cmd_status(magics: MagicsSettings, args: Any) -> Status:
    """``%mcp status``."""
    return status(magics)


def cmd_tools(magics: MagicsSettings, args: Any) -> Table:
    """``%mcp tools``: a table of the tools."""
    server = magics.server
    runs = {"sync": "worker thread", "async": "server loop", "generator": "worker thread (streams)"}
    flags = {name: runs.get(tool.kind.value, tool.kind.value) for name, tool in server.tools.items()}
    for name in magics.main_thread_tools & set(server.tools):
        flags[name] = "main thread"
    return tool_rows(dict(server.tools), dict(server.monitor.stats), flags)


def cmd_remove(magics: MagicsSettings, args: Any) -> None:
    """``%mcp remove NAME``."""
    if not magics.server.remove_tool(args.name):
        raise UsageError(f"%mcp remove: no tool named {args.name!r} (%mcp tools lists them)")
    magics.main_thread_tools.discard(args.name)
    print(f"nbmcp: tool {args.name!r} removed")


def cmd_call(magics: MagicsSettings, args: Any) -> CallResult:
    """``%mcp call NAME '{"a": 1}'``: the server's own call path, as a client's call goes."""
    server = magics.server
    tool = server.tools.get(args.name)
    if tool is None:
        raise UsageError(f"%mcp call: no tool named {args.name!r} (%mcp tools lists them)")
    executor = main_thread_executor()
    if getattr(tool.fn, MAIN_THREAD_ATTR, False) and asyncio._get_running_loop() is executor.loop:
        raise UsageError(
            f"%mcp call: {args.name!r} is an async --main-thread tool and needs the kernel's loop, "
            f"which this cell holds; call it from a client, or `await {args.name}(...)` in a cell"
        )
    arguments = call_arguments(args.arguments)
    started = time.perf_counter()
    future = server.submit_call(args.name, arguments, transport="notebook")
    try:
        result, record = executor.wait_pumping(future)
    except KeyboardInterrupt:
        future.cancel()
        raise
    except UnknownToolError:  # removed while the call was on its way
        raise UsageError(f"%mcp call: no tool named {args.name!r} (%mcp tools lists them)") from None
    return CallResult(args.name, result, record.output, time.perf_counter() - started)


def cmd_schema(magics: MagicsSettings, args: Any) -> Any:
    """``%mcp schema [--url] [--openapi] [--envelope] [--auth]``: the checked Action schema.

    The report shows itself as HTML in the notebook (findings, copy button, download link).
    """
    from nbmcp.errors import SchemaError

    openapi = "3.1.0" if args.openapi in ("3.1", "3.1.0") else "3.0"
    try:
        return magics.server.action_schema(args.url, openapi=openapi, envelope=args.envelope, auth=args.auth)
    except SchemaError as exc:
        raise UsageError(f"%mcp schema: {exc}") from None


def reserved(magics: MagicsSettings, command: str, rest: list[str]) -> Any:
    """``%mcp publish|monitor|connect``: not there yet (says so plainly)."""
    print(f"%mcp {command} is not there yet: {RESERVED[command]} comes in a later release.")
    return None
