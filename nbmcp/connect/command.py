"""``nbmcp connect URL [--client NAME] [--name NAME]``: client settings for any running nbmcp server.

The server is probed (:func:`~nbmcp.connect.probe.probe`) for its name and auth mode; the key,
if any, comes from ``NBMCP_API_KEY`` only, never from the command line (argv is visible to
every user of the machine and lands in shell history). Without ``--client`` every client is
printed for a person to read; with it, only that client's snippet and a newline, so
``nbmcp connect URL --client cursor > ~/.cursor/mcp.json`` writes the file. Warnings go to
stderr. Exit codes: 0 done, 1 the server could not be reached, 2 an unknown client.

The CLI wires it in with ``add_parser(subparsers)``; :func:`run` does the work.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_parser", "run"]

KEY_ENV = "NBMCP_API_KEY"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``connect`` on the ``nbmcp`` command's subparsers; it dispatches to :func:`run`."""
    from nbmcp.connect.clients import CLIENTS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "connect",
        help="print ready-to-paste settings for ChatGPT, Claude, Cursor, VS Code... for a running server",
        description="Print how to connect each MCP client to the nbmcp server at URL (its name and "
        "auth are asked from the server). A key is read from NBMCP_API_KEY, never from the command line.",
    )
    parser.add_argument("url", metavar="URL", help="the server's URL: its base URL or its /mcp URL")
    parser.add_argument(
        "--client",
        metavar="NAME",
        default=None,
        help=f"print only this client's snippet, raw (for a file): {', '.join(CLIENTS)}",
    )
    parser.add_argument("--name", default=None, help="the entry name (default: the server's own name)")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for each answer (default 5)"
    )
    parser.set_defaults(func=run)
    return parser


def _say(line: str) -> None:
    print(f"nbmcp connect: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Probe ``args.url`` and print the settings; the exit code (0, 1 unreachable, 2 unknown client)."""
    from nbmcp.connect.clients import CLIENTS, connect_info
    from nbmcp.connect.probe import ConnectError, probe
    from nbmcp.connect.text import describe

    client = getattr(args, "client", None)
    if client is not None and client not in CLIENTS:
        _say(f"unknown client {client!r}; valid: {', '.join(CLIENTS)}")
        return 2
    key = os.environ.get(KEY_ENV) or None
    try:
        probed = probe(args.url, key=key, name=getattr(args, "name", None), timeout=args.timeout)
    except ConnectError as exc:
        _say(str(exc))
        return 1
    for warning in probed.warnings:
        _say(f"warning: {warning}")
    info = connect_info(probed.target)
    if client is not None:
        sys.stdout.write(str(info[client]["snippet"]) + "\n")
    else:
        target = probed.target
        heading = f"nbmcp server {target.name!r} at {target.url} (auth: {target.auth})"
        sys.stdout.write(describe(info, heading))
    sys.stdout.flush()
    return 0
