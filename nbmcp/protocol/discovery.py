"""What the server says about itself: ``initialize``'s serverInfo and capabilities, and
``server/discover`` (protocol 2026-07-28), from one :class:`ServerInfo`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbmcp.protocol.versions import ALL_VERSIONS, fit

__all__ = ["ServerInfo", "discover_result", "server_info_of"]


@dataclass
class ServerInfo:
    """What ``initialize`` tells a client about the server."""

    name: str
    version: str = "0.1.0"
    title: str | None = None
    instructions: str | None = None
    website_url: str | None = None
    capabilities: dict[str, Any] = field(
        default_factory=lambda: {
            "tools": {"listChanged": True},
            "resources": {"subscribe": True, "listChanged": True},
            "prompts": {"listChanged": True},
            "logging": {},
            "completions": {},
        }
    )


def server_info_of(info: ServerInfo, version: str) -> dict[str, Any]:
    """The server's ``Implementation`` object as a client of ``version`` may see it."""
    entry: dict[str, Any] = {"name": info.name, "version": info.version}
    if info.title:
        entry["title"] = info.title
    if info.website_url:
        entry["websiteUrl"] = info.website_url
    return fit(entry, version)


def discover_result(info: ServerInfo, version: str) -> dict[str, Any]:
    """``server/discover``: the revisions served (newest first), capabilities and instructions."""
    result: dict[str, Any] = {
        "supportedVersions": list(ALL_VERSIONS),
        "capabilities": fit(info.capabilities, version),
    }
    if info.instructions:
        result["instructions"] = info.instructions
    return result
