"""``nbmcp serve``'s options applied to the server before it serves (:func:`configure`).

Credentials are in :mod:`nbmcp.cli.credentials`; this module adds the rest: sessions, allowed
hosts, CORS, limits, debug, the public URL a reverse proxy serves the server at, the call
journal and log (``--journal``, ``--log-calls``), and ``--otel``.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

from nbmcp.cli.credentials import api_keys, use_builtin_oauth, use_issuer
from nbmcp.config import expand_origins, is_loopback
from nbmcp.errors import NbmcpError, TargetError

__all__ = ["check_public_url", "configure"]


def configure(server: Any, args: argparse.Namespace) -> None:
    """Apply ``nbmcp serve``'s options to ``server`` (a file's, or a notebook's before its cells run).

    Raises:
        TargetError: an option's value is wrong (one line naming the option).
    """
    server.config.stateless = server.config.stateless or args.stateless
    owner, labelled = api_keys(args)
    if owner:
        server.config.api_key = owner
    server.config.api_keys.update(labelled)
    use_builtin_oauth(server, args)
    use_issuer(server, args)
    if not is_loopback(args.host) and server.config.allowed_hosts:
        # Bound to a public interface: accept the names clients use to reach it.
        server.config.allowed_hosts = [*server.config.allowed_hosts, args.host]
    if args.allow_host:
        server.config.allowed_hosts = [*server.config.allowed_hosts, *args.allow_host]
    if args.cors:
        server.config.cors = cors(server.config.cors, args.cors)
    limits(server, args)
    monitoring(server, args)
    if getattr(args, "public_url", None):
        server.public_url = check_public_url(args.public_url)  # its host joins the allowed hosts
    if getattr(args, "otel", False):
        otel(server)


def otel(server: Any) -> None:
    """``--otel``: the global providers from the ``OTEL_*`` variables, then a span per request."""
    from nbmcp.telemetry import configure_from_environment, install

    try:
        configure_from_environment(server.name)
        install(server.engine, True)
    except (ImportError, RuntimeError) as exc:
        raise TargetError(f"--otel: {exc}") from None


def limits(server: Any, args: argparse.Namespace) -> None:
    """``--rate-limit 100/15min|auto|off``, ``--trust-proxy`` and ``--debug``."""
    if args.trust_proxy:
        server.config.trust_proxy = True
    if getattr(args, "debug", False):
        server.config.debug = True
    if args.rate_limit is not None:
        from nbmcp.http.limits import LimitError, active_rate

        server.config.rate_limit = args.rate_limit
        try:
            active_rate(server.config)
        except LimitError as exc:
            raise TargetError(f"--rate-limit: {exc}") from None


def monitoring(server: Any, args: argparse.Namespace) -> None:
    """``--journal FILE`` and ``--log-calls FILE``: where every finished call is kept."""
    for flag, path, use in (
        ("--journal", getattr(args, "journal", None), server.use_journal),
        ("--log-calls", getattr(args, "log_calls", None), server.use_call_log),
    ):
        if path is None:
            continue
        try:
            use(path)
        except NbmcpError as exc:
            raise TargetError(f"{flag}: {exc}") from None


def cors(current: list[str], given: list[str]) -> list[str]:
    """``--cors chatgpt,claude`` / ``--cors https://a.example`` (repeatable) added to ``current``."""
    values = [part for value in given for part in value.split(",") if part.strip()]
    try:
        return expand_origins([*current, *values])
    except ValueError as exc:
        raise TargetError(f"--cors: {exc}") from None


def check_public_url(value: str) -> str:
    """``--public-url https://host[/prefix]``: the base URL clients reach the server at, checked.

    Returns it without a trailing ``/``. The MCP URL is then ``<it>/mcp``.

    Raises:
        TargetError: not an absolute http(s) URL with a host, or with a query or fragment.
    """
    text = value.strip()
    example = "e.g. https://host.example/nb (the proxy forwards https://host.example/nb/... here)"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        raise TargetError(f"--public-url: {value!r} is not a URL; {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"--public-url: {value!r} is not an absolute http(s) URL; {example}")
    if parts.query or parts.fragment or parts.username is not None or parts.password is not None:
        raise TargetError(
            f"--public-url: {value!r} has a query, fragment or user name; give the base URL only"
        )
    return text.rstrip("/")
