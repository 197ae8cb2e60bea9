"""``nbmcp serve TARGET``: load the target, apply the options, serve until Ctrl-C or SIGTERM.

With ``--ssl-certfile``/``--ssl-keyfile`` the server speaks HTTPS itself; with ``--publish``
it opens a tunnel once it serves (``server.publish``) and prints the public URL; with
``--public-url`` it writes the links a reverse proxy in front of it needs.
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import Any

from nbmcp.cli.announce import announce, announce_published
from nbmcp.cli.options import configure
from nbmcp.cli.target import load_target, notebook_module
from nbmcp.errors import TargetError

__all__ = ["ready", "run_serve", "tune_gc"]


def run_serve(args: argparse.Namespace) -> int:
    """Serve ``args.target`` in the foreground; returns the exit status (0 once stopped)."""
    tls = _tls(args)
    if Path(args.target).suffix == ".ipynb":
        # The cells run first (``%mcp start`` in them serves on --host/--port at once).
        if not Path(args.target).is_file():
            raise TargetError(f"no such file: {args.target}")
        notebook_module().serve_notebook(
            args.target,
            args.host,
            args.port,
            configure=lambda s: configure(s, args),
            announce=lambda s, url: ready(s, url, args),
            **tls,
        )
    else:
        server = load_target(args.target)
        configure(server, args)
        # run() installs the signal handlers first, then serves, then calls ready()
        server.run(args.host, args.port, announce=lambda url: ready(server, url, args), **tls)
    print("nbmcp: stopped", flush=True)
    return 0


def _tls(args: argparse.Namespace) -> dict[str, str]:
    """``start()``'s TLS arguments from ``--ssl-certfile``/``--ssl-keyfile`` (none: plain HTTP)."""
    if not args.ssl_certfile:
        return {}
    return {"ssl_certfile": args.ssl_certfile, "ssl_keyfile": args.ssl_keyfile}


def ready(server: Any, url: str, args: argparse.Namespace) -> None:
    """The server serves at ``url``: say so, publish it if asked, then settle the collector.

    Raises:
        NbmcpError: publishing failed (a :class:`~nbmcp.TunnelError`: one line why).
    """
    announce(server, url)
    if args.publish:
        public = server.publish(args.provider, domain=args.domain, no_auth=args.no_auth)
        announce_published(server, str(public), shown_key=args.oauth)
    tune_gc()


def tune_gc() -> None:
    """Keep garbage-collection pauses out of request latency (this process only serves).

    Objects alive after loading (modules, tools, compiled validators) are moved out of the
    collector's reach, and young collections run less often: full collections then scan
    what requests allocate, not the whole heap, so the p99 stays in single milliseconds.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
