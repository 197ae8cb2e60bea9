"""The ``nbmcp`` argument parser: ``serve``, ``schema``, ``connect`` and ``--version``.

Each subcommand's parser carries its handler as ``func`` (and ``serve`` its cross-flag
check as ``check``); the handlers are imported when they run, so ``nbmcp --version`` stays quick.
"""

from __future__ import annotations

import argparse

from nbmcp._version import __version__
from nbmcp.cli.serve_flags import add_serve_parser, check_serve_args

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``nbmcp`` command."""
    from nbmcp.cli.schema import run_schema
    from nbmcp.cli.serve import run_serve

    parser = argparse.ArgumentParser(prog="nbmcp", description="Serve Python functions as MCP tools.")
    parser.add_argument("--version", action="version", version=f"nbmcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = add_serve_parser(sub)
    serve.set_defaults(func=run_serve, check=lambda args: check_serve_args(serve, args))
    _add_schema_parser(sub).set_defaults(func=run_schema)
    _add_connect_parser(sub)
    return parser


def _add_schema_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    schema = sub.add_parser(
        "schema",
        help="print the ChatGPT Action schema (OpenAPI) of the server in a Python file, checked",
        description="Print the ChatGPT Action schema (OpenAPI) of a server to stdout and the checker's "
        "findings to stderr, or check an existing schema file; exit 1 if it breaks a ChatGPT limit.",
    )
    schema.add_argument(
        "target",
        metavar="TARGET",
        help="file.py[:attr] or notebook.ipynb to generate from, or an existing openapi.json/.yaml to check",
    )
    schema.add_argument(
        "--url",
        default=None,
        help="the server's public https URL for `servers` (default: its public URL, else the local one)",
    )
    schema.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="output format (default json)"
    )
    schema.add_argument(
        "--envelope",
        action="store_true",
        help="one callMCPTool operation posting JSON-RPC to /mcp (for more than 30 tools)",
    )
    schema.add_argument(
        "--openapi", default="3.1.0", metavar="VERSION", help="OpenAPI version: 3.1 (default) or 3.0"
    )
    schema.add_argument(
        "--auth",
        choices=("none", "header", "bearer", "oauth"),
        default=None,
        help="security scheme to describe (default: X-API-Key header if the server needs a key)",
    )
    schema.add_argument("-o", "--output", metavar="FILE", default=None, help="write the schema to FILE")
    return schema


def _add_connect_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``nbmcp connect URL [--client NAME]``: its flags and handler live in :mod:`nbmcp.connect.command`."""
    from nbmcp.connect import command

    command.add_parser(sub)
    connect = sub.choices.get("connect")
    if connect is not None and connect.get_default("func") is None:
        connect.set_defaults(func=command.run)
