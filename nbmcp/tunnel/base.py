"""The interface every tunnel provider returns, and the message helpers they share.

A :class:`Tunnel` is a public HTTPS URL forwarding to a local port for as long as its process
lives (:class:`~nbmcp.tunnel.process.ProcessTunnel` owns that process). Secrets handed to
:func:`remember_secret` (an ngrok authtoken) are cut out of every message built by
:func:`one_line` and of every log record of the loggers :func:`guard_loggers` names.
"""

from __future__ import annotations

import abc
import logging
import re
import threading
from collections.abc import Iterable

__all__ = ["Tunnel", "guard_loggers", "one_line", "redact", "remember_secret", "upstream_url"]

MESSAGE_LIMIT = 300
"""Longest agent text quoted in one of our messages."""
REDACTED = "[redacted]"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_ESCAPED_BREAKS = re.compile(r"(\\r|\\n|\\t)+")
_SPACES = re.compile(r"\s+")


def remember_secret(secret: str) -> None:
    """Never show ``secret`` again: :func:`redact` and the guarded loggers cut it out.

    Kept for the life of the process (a few tokens at most): an agent may still print the token
    in its last lines after the tunnel that used it is closed.
    """
    if len(secret) >= 4:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every remembered secret (and each of ``extra``) replaced by ``[redacted]``."""
    with _secrets_lock:
        secrets = [*_secrets, *(s for s in extra if len(s) >= 4)]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def one_line(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` as one short line fit for a message: breaks (real or ``\\n``-escaped) become
    spaces, secrets are cut out, and it stops at :data:`MESSAGE_LIMIT` characters."""
    flat = _SPACES.sub(" ", _ESCAPED_BREAKS.sub(" ", redact(text, extra))).strip()
    return flat if len(flat) <= MESSAGE_LIMIT else flat[: MESSAGE_LIMIT - 1].rstrip() + "…"


class _RedactFilter(logging.Filter):
    """Rewrites a record whose text holds a remembered secret (the record is kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _secrets_lock:
            if not _secrets:
                return True
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own handling
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


_FILTER = _RedactFilter()


def guard_loggers(names: Iterable[str]) -> None:
    """Cut remembered secrets out of what the named loggers emit (idempotent).

    A filter on a logger sees only the records made through that very logger, so each
    third-party logger that may print an agent's line is named, not just its parent.
    """
    for name in names:
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


def upstream_url(host: str, port: int) -> str:
    """``http://host:port`` for the local server, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


class Tunnel(abc.ABC):
    """A public HTTPS URL that forwards to a local port: what every provider returns.

    Attributes:
        provider: ``"ngrok"`` or ``"cloudflared"`` (the key in :data:`~nbmcp.tunnel.PROVIDERS`).
        public_url: ``https://host`` (``https://host:port`` for test doubles): no path, no ``/``.
        forwarded_header: The header the provider's edge writes the client's address in.
        holds_get_streams: The provider holds a GET event stream until it ends (cloudflared
            quick tunnels), so the server should answer ``GET /mcp`` with 405.
    """

    provider: str
    public_url: str
    forwarded_header: str
    holds_get_streams: bool = False

    @abc.abstractmethod
    def alive(self) -> bool:
        """Whether the tunnel's process (agent) is still up."""

    @abc.abstractmethod
    def problem(self) -> str | None:
        """One line saying why the tunnel is down; ``None`` while it is alive."""

    @abc.abstractmethod
    def close(self) -> None:
        """End the tunnel and free its process, ports, files and threads; idempotent, never raises."""

    def __enter__(self) -> Tunnel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "up" if self.alive() else "down"
        return f"<{type(self).__name__} {self.provider} {self.public_url} {state}>"
