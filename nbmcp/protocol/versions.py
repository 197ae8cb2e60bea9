"""The MCP protocol revisions nbmcp speaks and how a client's request is matched to one."""

from __future__ import annotations

from typing import Any, Final

from nbmcp.errors import UnsupportedVersion

__all__ = [
    "ALL_VERSIONS",
    "BATCH_VERSIONS",
    "DEFAULT_HEADERLESS_VERSION",
    "FIELD_SINCE",
    "HANDSHAKE_VERSIONS",
    "LATEST_VERSION",
    "LEGACY_ONLY_METHODS",
    "META_VERSION_KEY",
    "MODERN_VERSIONS",
    "SERVER_REQUEST_SINCE",
    "SUPPORTED_VERSIONS",
    "check_modern",
    "check_supported",
    "fit",
    "has_field",
    "is_modern",
    "negotiate",
    "since",
]

HANDSHAKE_VERSIONS: Final[tuple[str, ...]] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Revisions with ``initialize`` and sessions, oldest first."""

SUPPORTED_VERSIONS: Final = HANDSHAKE_VERSIONS
"""What ``initialize`` can agree on (the handshake revisions)."""

MODERN_VERSIONS: Final[tuple[str, ...]] = ("2026-07-28",)
"""Stateless revisions: no ``initialize``; each request carries its version in ``_meta``."""

ALL_VERSIONS: Final[tuple[str, ...]] = MODERN_VERSIONS[::-1] + HANDSHAKE_VERSIONS[::-1]
"""Every revision nbmcp serves, newest first (``server/discover`` and -32022 list these)."""

LATEST_VERSION: Final[str] = HANDSHAKE_VERSIONS[-1]
"""The newest handshake revision: what ``initialize`` answers a client it cannot match."""

LEGACY_ONLY_METHODS: Final[frozenset[str]] = frozenset(
    {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}
)
"""Methods 2026-07-28 removed: under it they do not exist (404, -32601)."""

SERVER_REQUEST_SINCE: Final[dict[str, tuple[str, str]]] = {
    "sampling/createMessage": ("sampling", "2024-11-05"),
    "elicitation/create": ("elicitation", "2025-06-18"),
    "roots/list": ("roots", "2024-11-05"),
}
"""Server-to-client requests: the client capability each needs, and the revision it came in."""

DEFAULT_HEADERLESS_VERSION: Final[str] = "2025-03-26"
"""What the spec says to assume for HTTP requests that carry no MCP-Protocol-Version header."""

BATCH_VERSIONS: Final[frozenset[str]] = frozenset({"2024-11-05", "2025-03-26"})
"""Revisions whose transport accepts JSON-RPC batches (2025-06-18 removed them)."""

META_VERSION_KEY: Final[str] = "io.modelcontextprotocol/protocolVersion"
"""Where a 2026-07-28 request names its version (in ``params._meta``)."""


FIELD_SINCE: Final[dict[str, str]] = {
    "title": "2025-06-18",
    "icons": "2025-11-25",
    "websiteUrl": "2025-11-25",
    "_meta": "2025-06-18",
    "outputSchema": "2025-06-18",
    "structuredContent": "2025-06-18",
    "annotations": "2025-03-26",
    "completions": "2025-03-26",
    "message": "2025-03-26",
}
"""Optional fields by the revision that introduced them: older clients must not see them."""


def since(version: str, revision: str) -> bool:
    """Whether ``version`` is ``revision`` or newer (the one place revisions are compared).

    Revision names are ISO dates, so their order is the order of the strings.
    """
    return version >= revision


def is_modern(version: str) -> bool:
    """Whether ``version`` is a stateless revision (2026-07-28 and later)."""
    return version in MODERN_VERSIONS


def has_field(version: str, field: str) -> bool:
    """Whether a client speaking ``version`` knows ``field`` (for the fields in FIELD_SINCE)."""
    first = FIELD_SINCE.get(field)
    return first is None or since(version, first)


def fit(entry: dict[str, Any], version: str) -> dict[str, Any]:
    """``entry`` without the optional fields ``version`` does not know (a copy when any drop)."""
    drop = [key for key in entry if not has_field(version, key)]
    if not drop:
        return entry
    return {k: v for k, v in entry.items() if k not in drop}


def negotiate(requested: object) -> str:
    """The version to answer ``initialize`` with: the client's if we speak it, else our latest."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def check_supported(version: str) -> str:
    """Return ``version`` or raise the -32022 error a newer client falls back from."""
    if version in SUPPORTED_VERSIONS:
        return version
    raise _unsupported(version)


def check_modern(version: str) -> str:
    """Return ``version`` if it is a stateless revision nbmcp serves, else raise -32022."""
    if version in MODERN_VERSIONS:
        return version
    raise _unsupported(version)


def _unsupported(version: str) -> UnsupportedVersion:
    shown = version if len(version) <= 40 else version[:40] + "..."
    return UnsupportedVersion(
        f"Unsupported protocol version {shown!r}; this server speaks " + ", ".join(ALL_VERSIONS),
        {"supported": list(ALL_VERSIONS), "requested": version},
    )
