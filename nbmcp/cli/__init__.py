"""The ``nbmcp`` command: ``nbmcp serve TARGET``, ``nbmcp schema TARGET``, ``nbmcp connect URL``.

TARGET is ``notebook.ipynb`` (its cells run, then its tools are served), ``file.py`` (its one
module-level :class:`MCPServer`) or ``file.py:attr``. The parts: :mod:`~nbmcp.cli.parser`
(flags), :mod:`~nbmcp.cli.serve` (serving, TLS, publishing), :mod:`~nbmcp.cli.options` and
:mod:`~nbmcp.cli.credentials` (options applied to the server), :mod:`~nbmcp.cli.announce`
(what ``serve`` prints), :mod:`~nbmcp.cli.schema` and :mod:`~nbmcp.cli.target`.
"""

from __future__ import annotations

import sys

from nbmcp.cli.options import configure as _configure  # noqa: F401 (the old name; tests use it)
from nbmcp.cli.parser import build_parser as _parser
from nbmcp.cli.target import load_target
from nbmcp.errors import NbmcpError

__all__ = ["load_target", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nbmcp`` console script; returns the exit status.

    An :class:`~nbmcp.NbmcpError` is one line on stderr (``nbmcp: error: ...``) and status 1;
    a usage error is argparse's (status 2).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    check = getattr(args, "check", None)
    if check is not None:
        check(args)
    try:
        return int(args.func(args))
    except NbmcpError as exc:
        print(f"nbmcp: error: {exc}", file=sys.stderr)
        return 1
