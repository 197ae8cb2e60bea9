"""The ``nbmcp`` command: ``nbmcp serve TARGET`` and ``nbmcp --version``.

TARGET is ``file.py`` (its one module-level :class:`MCPServer`) or ``file.py:attr``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from nbmcp._version import __version__
from nbmcp.errors import NbmcpError, TargetError

__all__ = ["load_target", "main"]


def load_target(target: str) -> Any:
    """Import ``file.py[:attr]`` and return its :class:`MCPServer`.

    Raises:
        TargetError: no such file, no server in it, or more than one without ``:attr``.
    """
    from nbmcp.server import MCPServer

    path_text, _, attr = target.partition(":") if not os.path.exists(target) else (target, "", "")
    path = Path(path_text)
    if not path.is_file():
        raise TargetError(f"no such file: {path_text}")
    if path.suffix == ".ipynb":
        raise TargetError("serving notebooks is not there yet: give a .py file (notebook support comes next)")
    module_name = f"nbmcp_target_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path.resolve())
    if spec is None or spec.loader is None:
        raise TargetError(f"cannot import {path_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except NbmcpError:
        raise
    except Exception as exc:
        raise TargetError(f"importing {path_text} failed: {type(exc).__name__}: {exc}") from exc
    if attr:
        server = getattr(module, attr, None)
        if not isinstance(server, MCPServer):
            raise TargetError(f"{path_text} has no MCPServer named {attr!r}")
        return server
    found = {name: value for name, value in vars(module).items() if isinstance(value, MCPServer)}
    if not found:
        raise TargetError(f"{path_text} defines no module-level MCPServer (e.g. server = MCPServer('name'))")
    if len(found) > 1:
        names = ", ".join(sorted(found))
        raise TargetError(f"{path_text} defines several servers ({names}); pick one: {path_text}:NAME")
    return next(iter(found.values()))


def _serve(args: argparse.Namespace) -> int:
    server = load_target(args.target)
    server.config.stateless = server.config.stateless or args.stateless
    if args.api_key:
        server.config.api_key = args.api_key
    if args.host not in ("127.0.0.1", "localhost", "::1") and server.config.allowed_hosts:
        # Bound to a public interface: accept the names clients use to reach it.
        server.config.allowed_hosts = [*server.config.allowed_hosts, args.host]
    if args.allow_host:
        server.config.allowed_hosts = [*server.config.allowed_hosts, *args.allow_host]

    def announce(url: str) -> None:
        tools = len(server.tools)
        auth = " (needs X-API-Key)" if server.config.api_key else ""
        print(
            f"nbmcp: serving {server.name!r} with {tools} tool{'s' * (tools != 1)} at {url}{auth}", flush=True
        )
        print(
            f"  connect: claude mcp add --transport http {server.name} {url}   |   "
            f"npx @modelcontextprotocol/inspector --cli {url} --method tools/list   |   Ctrl-C stops",
            flush=True,
        )

    server.run(args.host, args.port, announce=announce)
    print("nbmcp: stopped", flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbmcp", description="Serve Python functions as MCP tools.")
    parser.add_argument("--version", action="version", version=f"nbmcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve the MCPServer in a Python file over Streamable HTTP")
    serve.add_argument(
        "target", metavar="TARGET", help="file.py (its module-level MCPServer) or file.py:attr"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--stateless", action="store_true", help="issue no sessions (for many workers)")
    serve.add_argument(
        "--api-key", default=None, help="require this key (X-API-Key or Bearer); default $NBMCP_API_KEY"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept this Host header (repeatable; '*' accepts any)",
    )
    serve.set_defaults(func=_serve)
    schema = sub.add_parser("schema", help="print the ChatGPT Action schema (not there yet)")
    schema.add_argument("target", nargs="?")
    schema.set_defaults(func=lambda _a: _not_yet("schema"))
    return parser


def _not_yet(command: str) -> int:
    print(f"nbmcp {command}: not there yet (coming in a later release)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nbmcp`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except NbmcpError as exc:
        print(f"nbmcp: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
