"""The layers of the guard chain that exist today: Host/Origin, the API key, the body limit.

Each is a :class:`~nbmcp.http.chain.Layer`: it reads the request's headers (never its body),
and refuses with a status and a message a person can act on. They read the server's config
on every request, so a setting changed while serving (a published host, a new key) holds at
once. The key is compared in constant time and never echoed.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from nbmcp.config import LOOPBACK_HOSTS, OWNER_LABEL, ServerConfig
from nbmcp.http.chain import GuardRequest, Layer, Refusal
from nbmcp.principal import Principal

__all__ = ["OPEN_PATHS", "ApiKeyLayer", "BodyLimitLayer", "HostOriginLayer", "default_layers"]

OPEN_PATHS = frozenset({"/health"})
"""Paths any client may read without credentials (still behind the Host/Origin guard)."""

_CHALLENGE = (b"www-authenticate", b'Bearer realm="nbmcp", error="invalid_token"')


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostOriginLayer:
    """The DNS-rebinding guard: only allowed ``Host`` names, and no foreign browser ``Origin``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    def _host_ok(self, host: str | None) -> bool:
        allowed = self.config.allowed_hosts
        if "*" in allowed:
            return True
        if host is None:
            return False
        return _hostname(host) in allowed or host.lower() in allowed

    def _origin_ok(self, origin: str) -> bool:
        origins = self.config.allowed_origins
        if "*" in origins or origin in origins:
            return True
        if origin == "null":
            return False
        name = (urlsplit(origin).hostname or "").lower()
        if ":" in name:
            name = f"[{name}]"
        allowed = self.config.allowed_hosts
        return name in LOOPBACK_HOSTS or name in allowed or "*" in allowed

    async def check(self, request: GuardRequest) -> Refusal | None:
        headers = request.headers
        if not self._host_ok(headers.get("host")):
            return Refusal(421, "Misdirected request: Host header not allowed", "misdirected")
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin):
            return Refusal(403, "Forbidden: Origin not allowed", "forbidden")
        return None


class ApiKeyLayer:
    """``X-API-Key: K`` or ``Authorization: Bearer K`` on every path but :data:`OPEN_PATHS`.

    The owner key (``api_key``) is principal ``default``; a labelled key (``api_keys``) is
    its label. Every configured key is compared, each in constant time, so the time taken
    does not tell which (if any) came close.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    def _keys(self) -> list[tuple[Principal, bytes]]:
        config = self.config
        keys: list[tuple[Principal, bytes]] = []
        if config.api_key:
            keys.append((Principal("default", owner=True), config.api_key.encode()))
        for label, key in config.api_keys.items():
            if key:
                keys.append((Principal(label, owner=label == OWNER_LABEL), key.encode()))
        return keys

    async def check(self, request: GuardRequest) -> Refusal | None:
        keys = self._keys()
        if not keys or request.path in OPEN_PATHS:
            return None
        headers = request.headers
        given = headers.get("x-api-key")
        if given is None:
            authz = headers.get("authorization", "")
            if authz[:7].lower() == "bearer ":
                given = authz[7:].strip()
        if given is not None:
            offered = given.encode()
            found = None
            for principal, key in keys:
                if hmac.compare_digest(offered, key) and found is None:
                    found = principal
            if found is not None:
                request.principal = found
                return None
        why = "missing API key" if given is None else "invalid API key"
        message = f"Unauthorized: {why} (send X-API-Key or Authorization: Bearer)"
        return Refusal(401, message, "unauthorized", [_CHALLENGE])


class BodyLimitLayer:
    """A declared ``Content-Length`` over ``max_body_bytes`` is refused before anything is read.

    A body sent without a length (chunked) is still cut at the same limit by the door that
    reads it.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    async def check(self, request: GuardRequest) -> Refusal | None:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.config.max_body_bytes:
            return Refusal(413, "Request body too large", "payload_too_large")
        return None


def default_layers(config: ServerConfig) -> list[Layer]:
    """The chain's layers in their order: Host/Origin, then authentication, then limits."""
    return [HostOriginLayer(config), ApiKeyLayer(config), BodyLimitLayer(config)]
