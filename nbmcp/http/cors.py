"""CORS: which browser pages may call this server, as a layer of the guard chain.

Off until ``cors=[...]`` names origins (or the presets ``"chatgpt"`` and ``"claude"``, see
:data:`~nbmcp.config.CORS_PRESETS`). The layer sits right after the Host/Origin guard and
before authentication, because a browser's preflight (``OPTIONS`` with
``Access-Control-Request-Method``) never carries credentials: it is answered here, ``204``
for an allowed origin and ``403`` for any other. An actual request from an allowed origin
goes on and its response, whatever it is (a result, an event stream, a ``401`` the page must
be able to read), carries ``Access-Control-Allow-Origin`` with the origin itself,
``Vary: Origin``, the exposed headers and ``Access-Control-Allow-Credentials``. With
``"*"`` the answer is ``Access-Control-Allow-Origin: *`` and never credentials, as browsers
require.

Origins that are neither loopback, nor allowed hosts' own, nor in ``cors`` were refused
(``403``) by the Host/Origin guard already; a loopback page not in ``cors`` gets through to
its door as before, without CORS headers, so the browser keeps the answer from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nbmcp.config import ServerConfig
from nbmcp.http.chain import Answer, GuardRequest, Refusal

__all__ = ["ALLOW_HEADERS", "ALLOW_METHODS", "EXPOSE_HEADERS", "MAX_AGE", "CorsLayer"]

ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
"""What ``/mcp`` (POST, GET stream, DELETE) and the REST facade answer."""

ALLOW_HEADERS = (
    "Authorization, X-API-Key, Content-Type, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, "
    "Mcp-Name, Last-Event-ID"
)
"""The request headers MCP clients and Actions send (credentials, session, protocol, resume)."""

EXPOSE_HEADERS = "Mcp-Session-Id, WWW-Authenticate"
"""Response headers a page may read: the session it was given, how to authenticate."""

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def _allowed_headers(headers: Mapping[str, str]) -> str:
    """:data:`ALLOW_HEADERS`, and the ``Mcp-Param-*`` headers the preflight asks for: a tool's
    ``x-mcp-header`` parameters (2026-07-28) have names no fixed list can hold."""
    asked = headers.get("access-control-request-headers")
    if not asked or "mcp-param-" not in asked.lower():
        return ALLOW_HEADERS
    params = [
        name
        for name in (part.strip().lower() for part in asked.split(","))
        if name.startswith("mcp-param-") and len(name) > 10 and set(name) <= _TOKEN
    ]
    return ", ".join([ALLOW_HEADERS, *dict.fromkeys(params)])


MAX_AGE = 600
"""Seconds a browser may cache a preflight answer (a changed ``cors`` holds after that)."""


class CorsLayer:
    """Answers preflights before authentication; marks allowed origins' responses readable."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    async def check(self, request: GuardRequest) -> Refusal | Answer | None:
        if not self.config.cors:  # off: nothing to expand or look up
            return None
        allowed = self.config.cors_origins
        if not allowed:
            return None
        headers = request.headers
        origin = headers.get("origin")
        preflight = request.method == "OPTIONS" and "access-control-request-method" in headers
        if "*" not in allowed:
            request.add_header(b"vary", b"Origin")  # the answer depends on who asks
        if origin is None:
            return None
        if origin in allowed or origin.lower() in allowed:
            shown, credentials = origin.encode("latin-1"), True
        elif "*" in allowed:
            shown, credentials = b"*", False
        elif preflight:
            return Refusal(403, "Forbidden: this Origin may not call the server (CORS)", "forbidden")
        else:
            return None  # let the door answer; without CORS headers the page cannot read it
        request.add_header(b"access-control-allow-origin", shown)
        if credentials:
            request.add_header(b"access-control-allow-credentials", b"true")
        if preflight:
            return Answer(
                204,
                [
                    (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", _allowed_headers(request.headers).encode()),
                    (b"access-control-max-age", str(MAX_AGE).encode()),
                ],
            )
        request.add_header(b"access-control-expose-headers", EXPOSE_HEADERS.encode())
        return None
