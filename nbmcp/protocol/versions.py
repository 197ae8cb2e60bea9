"""The MCP protocol revisions nbmcp speaks and how a client's request is matched to one."""

from __future__ import annotations

from typing import Any, Final

from nbmcp.errors import UnsupportedVersion

__all__ = [
    "BATCH_VERSIONS",
    "DEFAULT_HEADERLESS_VERSION",
    "FIELD_SINCE",
    "LATEST_VERSION",
    "META_VERSION_KEY",
    "SUPPORTED_VERSIONS",
    "check_supported",
    "fit",
    "has_field",
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


def has_field(version: str, field: str) -> bool:
    """Whether a client speaking ``version`` knows ``field`` (for the fields in FIELD_SINCE)."""
    since = FIELD_SINCE.get(field)
    return since is None or version >= since


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
    raise UnsupportedVersion(
        f"Unsupported protocol version {version!r}; this server speaks " + ", ".join(SUPPORTED_VERSIONS),
        {"supported": list(SUPPORTED_VERSIONS), "requested": version},
    )
