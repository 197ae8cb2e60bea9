"""Authentication beyond API keys: OAuth access tokens, from the built-in authorization server
or an outside issuer.

Both are a :class:`TokenVerifier`: the guard chain's authentication layer hands it a bearer
token that is not an API key, and gets back the :class:`~nbmcp.principal.Principal` the token
stands for, or ``None`` when the token is not valid here (expired, forged, for another
audience...). Nothing in this package knows about HTTP or Jupyter.
"""

from __future__ import annotations

from typing import Protocol

from nbmcp.principal import Principal

__all__ = ["TokenVerifier"]


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal; names the authorization server that issues them."""

    def authorization_server(self, base_url: str) -> str:
        """The issuer URL to name in the RFC 9728 metadata of the server at ``base_url``."""
        ...

    async def verify(self, token: str, resource: str) -> Principal | None:
        """The token's principal, or ``None`` if it is not valid for ``resource`` (the MCP URL)."""
        ...
