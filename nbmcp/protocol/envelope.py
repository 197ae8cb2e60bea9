"""The per-request ``_meta`` envelope of protocol 2026-07-28: who asks, speaking what.

Revision 2026-07-28 has no ``initialize``: every request names its protocol version and the
client's capabilities (and, optionally, its identity and a log level) in ``params._meta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from nbmcp.errors import InvalidParams

__all__ = [
    "CLIENT_CAPABILITIES_KEY",
    "CLIENT_INFO_KEY",
    "LOG_LEVEL_KEY",
    "PROTOCOL_VERSION_KEY",
    "SERVER_INFO_KEY",
    "SUBSCRIPTION_ID_KEY",
    "Envelope",
    "read_envelope",
]

PROTOCOL_VERSION_KEY: Final = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY: Final = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY: Final = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL_KEY: Final = "io.modelcontextprotocol/logLevel"
SERVER_INFO_KEY: Final = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_KEY: Final = "io.modelcontextprotocol/subscriptionId"

_LEVELS: Final = frozenset(("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"))


@dataclass(slots=True)
class Envelope:
    """What one 2026-07-28 request says about its client."""

    version: str
    capabilities: dict[str, Any]
    client_info: dict[str, Any]
    log_level: str | None
    meta: dict[str, Any]


def read_envelope(params: object) -> Envelope:
    """The envelope of a request's params; -32602 when a required field is missing or malformed.

    The version is only checked to be a string here: whether it is one nbmcp speaks is asked
    after the HTTP headers are compared with it (the order the specification's clients expect).
    """
    if not isinstance(params, dict):
        raise InvalidParams("params must be an object carrying _meta (protocol 2026-07-28)")
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        raise InvalidParams(f"params._meta is required: it must carry {PROTOCOL_VERSION_KEY}")
    version = meta.get(PROTOCOL_VERSION_KEY)
    if not isinstance(version, str):
        raise InvalidParams(f"params._meta[{PROTOCOL_VERSION_KEY!r}] is required and must be a string")
    caps = meta.get(CLIENT_CAPABILITIES_KEY)
    if not isinstance(caps, dict):
        raise InvalidParams(f"params._meta[{CLIENT_CAPABILITIES_KEY!r}] is required and must be an object")
    info = meta.get(CLIENT_INFO_KEY)
    if info is not None and not isinstance(info, dict):
        raise InvalidParams(f"params._meta[{CLIENT_INFO_KEY!r}] must be an object")
    level = meta.get(LOG_LEVEL_KEY)
    if level is not None and level not in _LEVELS:
        raise InvalidParams(f"params._meta[{LOG_LEVEL_KEY!r}] must be one of {', '.join(sorted(_LEVELS))}")
    return Envelope(version, caps, info or {}, level, meta)
