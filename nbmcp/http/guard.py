"""The guard chain's order (:func:`default_layers`), and its Host/Origin and body-limit layers.

Host/Origin -> CORS (:mod:`~nbmcp.http.cors`) -> failed-auth limit -> authentication
(:mod:`~nbmcp.http.auth`) -> rate limit (:mod:`~nbmcp.http.limits`) -> body limit. Each layer
reads the request's headers (never its body) and the server's config on every request, so a
setting changed while serving (a published host, a new key) holds at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from nbmcp.config import LOOPBACK_HOSTS, ServerConfig
from nbmcp.http.auth import AuthLayer, VerifierSource
from nbmcp.http.chain import GuardRequest, Layer, Refusal
from nbmcp.http.cors import CorsLayer
from nbmcp.http.limits import FailedAuthLimitLayer, LimitsStore, RateLimitLayer

__all__ = ["BodyLimitLayer", "HostOriginLayer", "default_layers"]


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
        origins = self.config.cors_origins  # the one list of allowed origins (CORS)
        if "*" in origins or origin in origins or origin.lower() in origins:
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


def default_layers(config: ServerConfig, verifier: VerifierSource | None = None) -> list[Layer]:
    """The chain's layers in their order: Host/Origin, CORS preflight, the failed-authentication
    limit, authentication, the rate limit, body limits.

    ``verifier`` returns the server's token verifier of the moment (``server.token_verifier``).
    The two limit layers share one counter store (:mod:`nbmcp.http.limits`).
    """
    store = LimitsStore()
    return [
        HostOriginLayer(config),
        CorsLayer(config),
        FailedAuthLimitLayer(config, store),
        AuthLayer(config, verifier),
        RateLimitLayer(config, store),
        BodyLimitLayer(config),
    ]
