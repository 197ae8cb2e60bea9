"""Settings shared by the layers: what a server listens on and how it treats clients.

A plain dataclass, filled from keyword arguments and a few environment variables
(``NBMCP_API_KEY``); nothing is read from the environment until a server is built. Every
setting has exactly one home here; the layers read it from the config when they need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["DEFAULT_ALLOWED_HOSTS", "LOOPBACK_HOSTS", "MAX_BODY_BYTES", "ServerConfig", "is_loopback"]

LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Names of this machine's loopback interface, as a ``Host`` header or a bind address spells them."""

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
"""Host names accepted in the ``Host`` header by default: loopback only (DNS-rebinding guard)."""

MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body any door reads by default (``ServerConfig.max_body_bytes``)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a ``Host`` name, without port) is loopback only."""
    return host.strip().lower() in LOOPBACK_HOSTS


@dataclass
class ServerConfig:
    """How one :class:`~nbmcp.MCPServer` serves.

    Attributes:
        host: Interface to bind; loopback by default.
        port: TCP port; ``0`` picks a free one.
        api_key: When set, every endpoint but ``/health`` needs it (``X-API-Key`` or bearer).
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

    def __repr__(self) -> str:  # never show the key
        key = "'***'" if self.api_key else "None"
        return (
            f"ServerConfig(host={self.host!r}, port={self.port}, api_key={key}, stateless={self.stateless})"
        )
