"""The MCP protocol revisions nbmcp speaks and how a client's request is matched to one."""

from __future__ import annotations

from typing import Final

from nbmcp.errors import UnsupportedVersion

__all__ = [
    "BATCH_VERSIONS",
    "DEFAULT_HEADERLESS_VERSION",
    "LATEST_VERSION",
    "META_VERSION_KEY",
    "SUPPORTED_VERSIONS",
    "check_supported",
    "negotiate",
]

SUPPORTED_VERSIONS: Final[tuple[str, ...]] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Handshake-era revisions, oldest first. 2026-07-28 (stateless) is not served yet."""

LATEST_VERSION: Final[str] = SUPPORTED_VERSIONS[-1]

DEFAULT_HEADERLESS_VERSION: Final[str] = "2025-03-26"
"""What the spec says to assume for HTTP requests that carry no MCP-Protocol-Version header."""

BATCH_VERSIONS: Final[frozenset[str]] = frozenset({"2024-11-05", "2025-03-26"})
"""Revisions whose transport accepts JSON-RPC batches (2025-06-18 removed them)."""

META_VERSION_KEY: Final[str] = "io.modelcontextprotocol/protocolVersion"
"""Where a 2026-07-28 request names its version (in ``params._meta``)."""


def negotiate(requested: object) -> str:
    """The version to answer ``initialize`` with: the client's if we speak it, else our latest."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def check_supported(version: str) -> str:
    """Return ``version`` or raise the -32022 error a newer client falls back from."""
    if version in SUPPORTED_VERSIONS:
        return version
    raise UnsupportedVersion(
        f"Unsupported protocol version {version!r}; this server speaks " + ", ".join(SUPPORTED_VERSIONS),
        {"supported": list(SUPPORTED_VERSIONS), "requested": version},
    )
