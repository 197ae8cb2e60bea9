"""Settings shared by the layers: what a server listens on and how it treats clients.

A plain dataclass, filled from keyword arguments and a few environment variables
(``NBMCP_API_KEY``); nothing is read from the environment until a server is built. Every
setting has exactly one home here; the layers read it from the config when they need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_ALLOWED_HOSTS",
    "LOOPBACK_HOSTS",
    "MAX_BODY_BYTES",
    "OWNER_LABEL",
    "ServerConfig",
    "is_loopback",
    "parse_api_key",
    "read_api_key_file",
]

LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Names of this machine's loopback interface, as a ``Host`` header or a bind address spells them."""

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
"""Host names accepted in the ``Host`` header by default: loopback only (DNS-rebinding guard)."""

MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body any door reads by default (``ServerConfig.max_body_bytes``)."""


OWNER_LABEL = "owner"
"""The label that makes a labelled key the owner key (as ``api_key`` is)."""


def parse_api_key(value: str) -> tuple[str | None, str]:
    """``LABEL=KEY`` -> ``(LABEL, KEY)``, split at the first ``=``; a plain ``KEY`` -> ``(None, KEY)``.

    A key that itself contains ``=`` must therefore be given with a label (``ci=abc=def``).
    """
    label, sep, key = value.partition("=")
    if not sep:
        return None, value.strip()
    if not label.strip() or not key:
        raise ValueError(f"{value!r} is not LABEL=KEY (a key containing '=' needs a label)")
    return label.strip(), key


def read_api_key_file(path: str) -> dict[str, str]:
    """Keys from a file of ``LABEL KEY`` lines (blank lines and ``#`` comments skipped)."""
    keys: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 1)
            if len(parts) != 2 or not parts[1].strip():
                raise ValueError(f"{path}:{number}: expected 'LABEL KEY'")
            label, key = parts[0], parts[1].strip()
            if label in keys:
                raise ValueError(f"{path}:{number}: the label {label!r} is given twice")
            keys[label] = key
    return keys


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a ``Host`` name, without port) is loopback only."""
    return host.strip().lower() in LOOPBACK_HOSTS


@dataclass
class ServerConfig:
    """How one :class:`~nbmcp.MCPServer` serves.

    Attributes:
        host: Interface to bind; loopback by default.
        port: TCP port; ``0`` picks a free one.
        api_key: The owner key: when set, every endpoint but ``/health`` needs a key
            (``X-API-Key`` or bearer); its principal is ``default``.
        api_keys: More keys by label (``{"cursor": "K1"}``); the label is the caller's
            principal. They call tools; only the owner key (``api_key``, or the one labelled
            ``owner``) approves OAuth clients.
        stateless: Issue no sessions (for many workers behind a balancer).
        allowed_hosts: ``Host`` header names accepted; ``"*"`` accepts any. A published
            server adds its public host here.
        allowed_origins: ``Origin`` values accepted besides loopback ones; ``"*"`` any.
        session_ttl: Seconds an idle session lives before it expires.
        tool_timeout: Seconds a tool call may run before the client gets an error;
            ``None`` for no limit.
        json_response: Answer requests with JSON even when the client accepts SSE and the
            call would stream (progress and logs are then dropped).
        mask_error_details: Hide a tool's exception text from clients (it is still logged).
        max_body_bytes: The largest request body accepted (413 past it), on every door.
        public_url: The server's public base URL (``https://...``), set by a tunnel when the
            server is published; the ChatGPT Action schema names it in ``servers``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    api_keys: dict[str, str] = field(default_factory=dict)
    stateless: bool = False
    allowed_hosts: list[str] = field(default_factory=lambda: list(DEFAULT_ALLOWED_HOSTS))
    allowed_origins: list[str] = field(default_factory=list)
    session_ttl: float = 3600.0
    tool_timeout: float | None = 60.0
    json_response: bool = False
    mask_error_details: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    public_url: str | None = None

    def __post_init__(self) -> None:
        if self.api_key is None:
            self.api_key = os.environ.get("NBMCP_API_KEY") or None
        if self.tool_timeout is not None and self.tool_timeout <= 0:
            self.tool_timeout = None

    @property
    def requires_key(self) -> bool:
        """Whether any API key is configured (then requests must carry one)."""
        return bool(self.api_key) or any(self.api_keys.values())

    def __repr__(self) -> str:  # never show a key
        key = "'***'" if self.api_key else "None"
        labels = sorted(self.api_keys)
        return (
            f"ServerConfig(host={self.host!r}, port={self.port}, api_key={key}, "
            f"api_keys={labels!r}, stateless={self.stateless})"
        )
