"""Who may talk to the server: the DNS-rebinding guard (Host, Origin) and the API key.

Checked before any body is read. The key is compared in constant time and never echoed.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from nbmcp.config import ServerConfig

__all__ = ["Guard", "Verdict"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

Verdict = tuple[int, str, list[tuple[bytes, bytes]]] | None
"""``None`` to let the request through, else (status, message, extra headers)."""


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """Checks one request's headers against a server's config."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    def _host_ok(self, host: str | None) -> bool:
        allowed = self.config.allowed_hosts
        if "*" in allowed:
            return True
        if host is None:
            return False
        name = _hostname(host)
        return name in allowed or host.lower() in allowed

    def _origin_ok(self, origin: str) -> bool:
        origins = self.config.allowed_origins
        if "*" in origins or origin in origins:
            return True
        if origin == "null":
            return False
        name = (urlsplit(origin).hostname or "").lower()
        if ":" in name:
            name = f"[{name}]"
        return name in _LOOPBACK or name in self.config.allowed_hosts or "*" in self.config.allowed_hosts

    def check(self, headers: dict[str, str], *, auth: bool = True) -> Verdict:
        """Judge a request; ``auth=False`` skips the key (``/health``)."""
        if not self._host_ok(headers.get("host")):
            return 421, "Misdirected request: Host header not allowed", []
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin):
            return 403, "Forbidden: Origin not allowed", []
        key = self.config.api_key
        if auth and key:
            given = headers.get("x-api-key")
            if given is None:
                authz = headers.get("authorization", "")
                if authz[:7].lower() == "bearer ":
                    given = authz[7:].strip()
            if given is None or not hmac.compare_digest(given.encode(), key.encode()):
                challenge = (b"www-authenticate", b'Bearer realm="nbmcp", error="invalid_token"')
                why = "missing API key" if given is None else "invalid API key"
                return 401, f"Unauthorized: {why} (send X-API-Key or Authorization: Bearer)", [challenge]
        return None
