"""Who is calling: the principal an authentication layer names for a request.

A principal is what call records, sessions and ``Context.principal`` say about the caller:
an API key's label (``default`` for an unlabelled key) or an OAuth token's subject, with the
token's client, scopes and claims. Nothing secret is kept here: never the key or the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    Attributes:
        name: The key's label, or the token's ``sub``: what records and logs show.
        kind: ``"key"`` (an API key) or ``"token"`` (an OAuth access token).
        owner: Whether this is the server's owner key (the one that may approve OAuth clients).
        client_id: The OAuth client the token was issued to.
        scopes: The token's scopes (API keys carry none and are not subject to scopes).
        claims: The token's verified claims, read-only.
    """

    name: str
    kind: str = "key"
    owner: bool = False
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """What identifies the caller across requests (a session belongs to one key)."""
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return self.name
