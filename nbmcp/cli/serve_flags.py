"""The ``nbmcp serve`` subcommand's flags, and the checks between them argparse cannot express."""

from __future__ import annotations

import argparse
from typing import Any

from nbmcp.config import CORS_PRESETS, DEFAULT_RATE_LIMIT

__all__ = ["PROVIDER_CHOICES", "add_serve_parser", "check_serve_args"]

PROVIDER_CHOICES = ("ngrok", "cloudflared")
"""``--provider`` values (the tunnel providers of :mod:`nbmcp.tunnel`)."""


def add_serve_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the ``nbmcp`` subcommands; returns its parser."""
    serve: argparse.ArgumentParser = sub.add_parser(
        "serve", help="serve a notebook's tools, or the MCPServer in a Python file, over Streamable HTTP"
    )
    serve.add_argument(
        "target",
        metavar="TARGET",
        help="notebook.ipynb (its cells run first, then its tools are served), "
        "file.py (its module-level MCPServer) or file.py:attr",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--stateless", action="store_true", help="issue no sessions (for many workers)")
    _credentials(serve)
    _access(serve)
    _publishing(serve)
    _monitoring(serve)
    serve.add_argument(
        "--debug",
        action="store_true",
        help="add tracebacks to the errors clients get (for development on your own machine only)",
    )
    serve.add_argument(
        "--otel",
        action="store_true",
        help="OpenTelemetry: a span per MCP request and the mcp.server.operation.duration histogram, "
        'exported as the OTEL_* variables say (default otlp); needs pip install "nbmcp[otel]"',
    )
    return serve


def _credentials(serve: argparse.ArgumentParser) -> None:
    add = serve.add_argument
    add(
        "--api-key",
        action="append",
        default=[],
        metavar="[LABEL=]KEY",
        help="require a key (X-API-Key or Bearer); repeatable: LABEL=KEY names the caller in call records "
        "(split at the first '=', so a key containing '=' needs a label); default $NBMCP_API_KEY",
    )
    add(
        "--api-key-file",
        action="append",
        default=[],
        metavar="FILE",
        help="more keys, one 'LABEL KEY' a line ('#' comments); repeatable",
    )
    add(
        "--oauth",
        action="store_true",
        help="the built-in OAuth server, for ChatGPT and Claude connectors: the owner key (--api-key, "
        "NBMCP_API_KEY, or one generated) approves each client on its consent page",
    )
    add(
        "--oauth-store",
        metavar="memory|DIR",
        default=None,
        help="where --oauth keeps its signing key, clients and refresh tokens (default: a 0600 file "
        "under ~/.config/nbmcp, so they survive a restart; 'memory' keeps nothing)",
    )
    add(
        "--oauth-issuer",
        metavar="URL",
        default=None,
        help="accept OAuth access tokens (JWTs) from this outside issuer, e.g. https://TENANT.auth0.com/ "
        "(its metadata and keys are discovered); needs --oauth-audience",
    )
    add(
        "--oauth-audience",
        metavar="AUD",
        default=None,
        help="the 'aud' the issuer's tokens carry for this server",
    )
    add(
        "--oauth-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope every token must carry (repeatable; 403 without it)",
    )


def _access(serve: argparse.ArgumentParser) -> None:
    add = serve.add_argument
    add(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept this Host header (repeatable; '*' accepts any)",
    )
    add(
        "--cors",
        action="append",
        default=[],
        metavar="ORIGINS",
        help="let these browser origins call the server (CORS): origins like https://a.example or the "
        f"presets {', '.join(CORS_PRESETS)}; comma list, repeatable; '*' any origin (no credentials)",
    )
    add(
        "--rate-limit",
        metavar="RATE",
        default=None,
        help="requests per window for each caller, e.g. 100/15min (windows: s, min, h, d); 'auto' "
        f"(default: off on loopback, {DEFAULT_RATE_LIMIT} once published or bound elsewhere) or 'off'",
    )
    add(
        "--trust-proxy",
        action="store_true",
        help="behind your own proxy: take the client address from X-Forwarded-For (its right-most "
        "untrusted entry) for the per-address limits",
    )


def _publishing(serve: argparse.ArgumentParser) -> None:
    add = serve.add_argument
    add(
        "--publish",
        action="store_true",
        help="publish over an HTTPS tunnel (ngrok when a token is set, else cloudflared) and print the "
        "public URL; turns on OAuth unless an outside issuer is set or --no-auth",
    )
    add("--provider", choices=PROVIDER_CHOICES, default=None, help="the tunnel for --publish")
    add("--domain", metavar="NAME", default=None, help="a reserved ngrok domain for --publish")
    add(
        "--no-auth",
        action="store_true",
        help="publish without authentication: anyone with the URL can call the tools",
    )
    add(
        "--ssl-certfile",
        metavar="FILE",
        default=None,
        help="serve HTTPS directly with this PEM certificate chain (needs --ssl-keyfile)",
    )
    add("--ssl-keyfile", metavar="FILE", default=None, help="the certificate's unencrypted PEM private key")
    add(
        "--public-url",
        metavar="URL",
        default=None,
        help="the base URL a reverse proxy serves this server at, e.g. https://host/nb: links the server "
        "writes (OAuth metadata, servers) carry it and its host is accepted; the proxy forwards "
        "https://host/nb/... here without the prefix, and https://host/.well-known/... as is",
    )


def _monitoring(serve: argparse.ArgumentParser) -> None:
    add = serve.add_argument
    add(
        "--journal",
        metavar="FILE",
        default=None,
        help="keep every finished call in this SQLite file (created 0600; WAL, readable while serving "
        "and after a crash: SELECT * FROM calls); secrets redacted, arguments whole up to 64 KiB",
    )
    add(
        "--log-calls",
        metavar="FILE",
        default=None,
        help="append one JSON line per finished call to this file (created 0600), each written before "
        "the answer leaves, so kill -9 loses no answered call",
    )


def check_serve_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse flags that go together only in pairs or exclude each other (``parser.error``: exit 2)."""
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        parser.error("--ssl-certfile and --ssl-keyfile go together: the certificate and its key")
    if not args.publish:
        optional = {"--provider": args.provider, "--domain": args.domain, "--no-auth": args.no_auth}
        given = [flag for flag, value in optional.items() if value]
        if given:
            parser.error(f"{', '.join(given)} go{'es' * (len(given) == 1)} with --publish")
        return
    if args.public_url:
        parser.error("--publish and --public-url exclude each other: the tunnel gives the public URL")
    if args.ssl_certfile:
        parser.error("--publish and --ssl-certfile exclude each other: the tunnel serves the HTTPS")
