"""The ``%%mcp_tool`` and ``%mcp`` magics: sugar over the kernel's one :class:`MCPServer`.

``%load_ext nbmcp`` registers :class:`NbmcpMagics` (configurable: ``%config
NbmcpMagics.port = 8765``), puts the routing streams over ``sys.stdout``/``sys.stderr`` so a
tool's prints stay in its call record, points ``--main-thread`` tools at the kernel's loop, and
stops the server when the kernel shuts down. ``%unload_ext`` undoes all of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from IPython.core import magic, magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics
from traitlets import Bool, Float, Int, Unicode, observe
from traitlets.config import Configurable

from nbmcp.errors import ToolDefinitionError
from nbmcp.notebook import capture, commands, monitor_commands, publish_commands
from nbmcp.notebook.kernel import (
    current_server,
    main_thread_executor,
    notebook_name,
    peek_server,
    set_namer,
    shutdown,
)
from nbmcp.notebook.parsing import RESERVED, mcp_help, mcp_parser, split, subcommand_help
from nbmcp.notebook.toolcell import last_function_name, on_main_thread, signature_line

__all__ = ["NbmcpMagics", "load_ipython_extension", "unload_ipython_extension"]

_PARSER = mcp_parser()

F = TypeVar("F", bound=Callable[..., Any])
_Decorator = Callable[[F], F]

# IPython's decorators carry no annotations; these typed names keep the methods typed.
magics_class = magic.magics_class
cell_magic = cast("_Decorator[Any]", magic.cell_magic)
line_magic = cast("_Decorator[Any]", magic.line_magic)
no_var_expand: _Decorator[Any] = magic.no_var_expand
arguments = cast("Callable[..., _Decorator[Any]]", magic_arguments.magic_arguments)
argument = cast("Callable[..., _Decorator[Any]]", magic_arguments.argument)


def _header_options(given: list[str]) -> dict[str, str]:
    """``--header PARAM=Name`` flags as the ``headers=`` option (one clear line for a mistake)."""
    headers: dict[str, str] = {}
    for item in given:
        param, sep, name = item.partition("=")
        if not sep or not param.strip() or not name.strip():
            raise UsageError(f"%%mcp_tool: --header {item!r} must be PARAM=Name (e.g. region=Region)")
        headers[param.strip()] = name.strip()
    return headers


@magics_class
class NbmcpMagics(Magics, Configurable):
    """Turn cells into MCP tools and serve them from the kernel."""

    name = Unicode("", help="The server's name (default: the notebook's file name).").tag(config=True)
    host = Unicode("127.0.0.1", help="Interface %mcp start binds by default.").tag(config=True)
    port = Int(8000, help="Port %mcp start uses by default (0 picks a free one).").tag(config=True)
    api_key = Unicode(
        None, allow_none=True, help="Key clients must send (default $NBMCP_API_KEY; none: open)."
    ).tag(config=True)
    tool_timeout = Float(60.0, help="Seconds a call may run before the client gets an error (0: none).").tag(
        config=True
    )
    freeze_gc = Bool(
        True,
        help="At %mcp start, leave the objects that exist then out of the garbage collector's full "
        "passes (gc.freeze(); gc.unfreeze() undoes it): over a big notebook heap such a pass stops "
        "the kernel and the server for ~100 ms, several times a second under load.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        self.port_chosen = False
        """Whether the port was configured or given (then a taken port is an error, not a hop)."""
        init: Any = super().__init__  # typed in IPython 9, untyped in 8: Any fits both
        init(shell=shell, **kwargs)
        self.serving = False
        """True under ``nbmcp serve``: the command line owns host, port and lifetime."""
        self.cell_tools: dict[str, str] = {}
        """Cell id -> the tool that cell registered (renaming a function replaces its old tool)."""
        self.main_thread_tools: set[str] = set()

    @classmethod
    def class_get_trait_help(cls, trait: Any, inst: Any = None, helptext: str | None = None) -> str:
        """``%config NbmcpMagics`` lists every option with its value: never the key's."""
        if trait.name == "api_key" and inst is not None and getattr(inst, "api_key", None):
            shown: str = super().class_get_trait_help(trait, None, helptext)
            return shown + "\n    Current: '***' (set; the key is never shown)"
        text: str = super().class_get_trait_help(trait, inst, helptext)
        return text

    @observe("port")
    def _port_set(self, change: Any) -> None:
        self.port_chosen = True

    @observe("name")
    def _name_set(self, change: Any) -> None:
        server = peek_server()
        if server is not None:
            server.info.name = self.server_name()

    def server_name(self) -> str:
        """The ``name`` setting, else the notebook's file name, else ``notebook``."""
        return self.name or notebook_name(self.shell.user_ns if self.shell else None)

    @observe("tool_timeout")
    def _timeout_set(self, change: Any) -> None:
        server = peek_server()
        if server is not None:
            commands.apply_timeout(server, float(change.new))

    @property
    def ip(self) -> Any:
        """The shell (set once loaded)."""
        return self.shell

    @property
    def server(self) -> Any:
        """The kernel's server (made on first use)."""
        fresh = peek_server() is None
        server = current_server(self.server_name())
        if fresh:
            commands.apply_timeout(server, self.tool_timeout)
        return server

    # -- %%mcp_tool -----------------------------------------------------------------------

    @no_var_expand
    @cell_magic
    @arguments(name="%mcp_tool")
    @argument("--name", default=None, help="tool name (default: the function's name)")
    @argument("--title", default=None, help="human-friendly title shown by clients")
    @argument("--description", default=None, help="description (default: the docstring)")
    @argument("--read-only", action="store_true", help="the tool changes nothing (readOnlyHint)")
    @argument("--destructive", action="store_true", help="the tool may delete or overwrite (destructiveHint)")
    @argument(
        "--header",
        action="append",
        default=[],
        metavar="PARAM=Name",
        help="mirror a parameter in an Mcp-Param-Name request header (x-mcp-header, protocol "
        "2026-07-28), for gateways that route on it; repeat for more",
    )
    @argument(
        "--main-thread",
        action="store_true",
        help="run calls on the kernel's own thread, between cells (for pyplot, sqlite3, GUI code); "
        "a call made while a cell runs waits for that cell to end",
    )
    def mcp_tool(self, line: str, cell: str) -> None:
        """Run the cell, then serve its last top-level ``def``/``async def`` as an MCP tool.

        The docstring and type hints give the tool's description and input schema.
        Re-running the cell replaces the tool in place; connected clients are told.
        The tool reads the notebook's globals when it is called, not when it is defined.
        """
        try:
            args = self.mcp_tool.parser.parse_args(split(line, "%%mcp_tool"))
        except UsageError as exc:
            raise UsageError(f"%%mcp_tool: {exc}") from None
        if args.read_only and args.destructive:
            raise UsageError("%%mcp_tool: --read-only and --destructive contradict each other; pick one")
        fn_name: str | None = None
        try:
            fn_name = last_function_name(self.ip.transform_cell(cell))
        except SyntaxError:
            broken = True
        else:
            broken = False
        if broken:
            self.ip.run_cell(cell, store_history=False)  # shows the syntax error where it is
            return
        if fn_name is None:
            raise UsageError(
                "%%mcp_tool: the cell defines no function; "
                "its last top-level def or async def becomes the tool"
            )
        if not self.ip.run_cell(cell, store_history=False).success:
            return  # the traceback is shown; an earlier version of the tool, if any, stays served
        fn = self.ip.user_ns.get(fn_name)
        if not callable(fn):
            raise UsageError(f"%%mcp_tool: after the cell ran, {fn_name!r} is not a function")
        self._register(fn, fn_name, args)

    def _register(self, fn: Any, fn_name: str, args: Any) -> None:
        server = self.server
        tool_name = args.name or fn_name
        options: dict[str, Any] = {
            "name": tool_name,
            "title": args.title,
            "description": args.description,
            "read_only": True if args.read_only else None,
            "destructive": True if args.destructive else None,
        }
        if args.header:
            options["headers"] = _header_options(args.header)
        target = fn
        if args.main_thread:
            try:
                target, executor = on_main_thread(fn, main_thread_executor())
            except ValueError as exc:
                raise UsageError(f"%%mcp_tool: {exc}") from None
            if executor is not None:
                options["executor"] = executor
        existed = tool_name in server.tools
        try:
            server.add_tool(target, replace=True, **options)
        except ToolDefinitionError as exc:
            kept = f" (the previous {tool_name!r} stays served)" if existed else ""
            raise UsageError(f"%%mcp_tool: {exc}{kept}") from None
        if args.main_thread:
            self.main_thread_tools.add(tool_name)
        else:
            self.main_thread_tools.discard(tool_name)
        cell_id = self._cell_id()
        if cell_id is not None:
            previous = self.cell_tools.get(cell_id)
            if previous and previous != tool_name and previous in server.tools:
                server.remove_tool(previous)
                self.main_thread_tools.discard(previous)
                print(f"nbmcp: tool {previous!r} removed (this cell now defines {tool_name!r})")
            self.cell_tools[cell_id] = tool_name
        where = f"served at {server.url}" if server.url else "%mcp start serves it"
        verb = "replaced" if existed else "added"
        print(f"nbmcp: tool {signature_line(tool_name, fn)} {verb}; {where}")

    def _cell_id(self) -> str | None:
        parent = getattr(self.shell, "parent_header", None) or {}
        cell_id = (parent.get("metadata") or {}).get("cellId")
        return cell_id if isinstance(cell_id, str) and cell_id else None

    # -- %mcp -----------------------------------------------------------------------------

    @no_var_expand
    @line_magic
    def mcp(self, line: str) -> Any:
        tokens = split(line, "%mcp")
        if not tokens:
            status = commands.status(self)
            print("%mcp COMMAND: start, stop, status, tools, call, remove (%mcp? or %mcp help for more)")
            return status
        command, rest = tokens[0], tokens[1:]
        if command in ("help", "-h", "--help"):
            print(subcommand_help(_PARSER, rest[0]) if rest else mcp_help(_PARSER))
            return None
        if command in RESERVED:
            return commands.reserved(self, command, rest)
        if "-h" in rest or "--help" in rest:
            print(subcommand_help(_PARSER, command))
            return None
        args = _PARSER.parse_args(tokens)
        handler = next(
            getattr(module, f"cmd_{args.command}")
            for module in _COMMAND_MODULES
            if hasattr(module, f"cmd_{args.command}")
        )
        return handler(self, args)


NbmcpMagics.mcp.__doc__ = mcp_help(_PARSER)

_COMMAND_MODULES = (commands, publish_commands, monitor_commands)
"""Where ``%mcp NAME`` finds its ``cmd_NAME`` (each module one family of subcommands)."""

_state: dict[str, Any] = {}
_lock = threading.Lock()


def _on_exit_now(change: Any) -> None:
    if change.get("new"):
        shutdown()  # the kernel is shutting down or restarting: free the port now


def _prewarm() -> None:
    """Import in a background thread what the first ``%%mcp_tool`` and ``%mcp start`` need.

    First what they import, in the order they need it: a cell that comes at once waits for
    these imports instead of doing them itself (none of them loads pydantic's model machinery).
    Then, after a pause, pydantic's model machinery, which a non-plain signature and the
    FastAPI app built beside a started server need: later, so it does not take the CPU from
    cells that register and start right away. (Not FastAPI itself: it imports opentelemetry
    when that is installed, which ``%load_ext`` must not.)
    """
    import contextlib
    import importlib
    import time

    now = ("nbmcp.server", "nbmcp.http.runner", "uvicorn", "uvloop", "uvicorn.protocols.http.httptools_impl")
    later = ("pydantic.main", "pydantic.type_adapter", "pydantic.json_schema")
    quiet = 0.5  # seconds between the two

    def warm() -> None:
        for names in (now, later):
            if names is later:
                time.sleep(quiet)
            for name in names:
                with contextlib.suppress(Exception):  # missing or broken: it shows later, where it matters
                    importlib.import_module(name)

    threading.Thread(target=warm, name="nbmcp-prewarm", daemon=True).start()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbmcp``: register the magics and hooks (once per shell)."""
    with _lock:
        if _state.get("shell") is ipython:
            return
        magics = NbmcpMagics(ipython)
        ipython.register_magics(magics)
        if magics not in ipython.configurables:
            ipython.configurables.append(magics)
        capture.install()
        kernel = getattr(ipython, "kernel", None)
        io_loop = getattr(kernel, "io_loop", None)
        if io_loop is not None:
            main_thread_executor().set_loop(io_loop.asyncio_loop)
        if hasattr(ipython, "observe") and ipython.has_trait("exit_now"):
            ipython.observe(_on_exit_now, names="exit_now")
        set_namer(magics.server_name)
        _state.update(shell=ipython, magics=magics)
    _prewarm()


def get_magics(ipython: Any) -> NbmcpMagics | None:
    """The loaded magics of ``ipython`` (``None`` before ``%load_ext nbmcp``)."""
    magics = _state.get("magics")
    return magics if _state.get("shell") is ipython else None


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbmcp``: stop the server, remove the magics and hooks (tools are kept)."""
    with _lock:
        if "shell" not in _state or _state["shell"] is not ipython:
            return
        magics = _state["magics"]
        shutdown()
        registry = ipython.magics_manager.magics
        registry["line"].pop("mcp", None)
        registry["cell"].pop("mcp_tool", None)
        ipython.magics_manager.registry.pop("NbmcpMagics", None)
        if magics in ipython.configurables:
            ipython.configurables.remove(magics)
        if hasattr(ipython, "unobserve") and ipython.has_trait("exit_now"):
            ipython.unobserve(_on_exit_now, names="exit_now")
        main_thread_executor().set_loop(None)
        set_namer(None)
        capture.uninstall()
        _state.clear()
