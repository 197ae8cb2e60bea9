"""An authorization request waiting for the owner's consent.

It holds what the consent page shows (the client's self-declared name, where the browser
will be sent, the scopes) and what binds the page's form to this one request: a CSRF token
that only the rendered page carries, and a short approval code the owner may type in the
notebook (``%mcp approve CODE``) instead of the owner key in the browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from nbmcp.auth.clients import Client

__all__ = ["Pending"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a phone, typed in a cell


def _approval_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(slots=True)
class Pending:
    """One authorization request, checked, waiting for consent."""

    id: str = field(repr=False)
    """The form's handle on this request; with ``csrf`` it posts the form, so no repr shows them."""
    csrf: str = field(repr=False)
    approval_code: str
    client: Client
    redirect_uri: str
    state: str | None
    code_challenge: str
    scopes: tuple[str, ...]
    resource: str
    issuer: str
    expires: float
    failures: int = 0
    approved: bool = False

    @classmethod
    def new(
        cls,
        client: Client,
        redirect_uri: str,
        state: str | None,
        code_challenge: str,
        scopes: tuple[str, ...],
        resource: str,
        issuer: str,
        expires: float,
    ) -> Pending:
        """A request with fresh random id, CSRF token and approval code."""
        return cls(
            id=secrets.token_urlsafe(24),
            csrf=secrets.token_urlsafe(32),
            approval_code=_approval_code(),
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=code_challenge,
            scopes=scopes,
            resource=resource,
            issuer=issuer,
            expires=expires,
        )

    @property
    def redirect_host(self) -> str:
        """The host (and port) the browser goes back to: what the owner must recognise."""
        parts = urlsplit(self.redirect_uri)
        return parts.netloc.rsplit("@", 1)[-1] or self.redirect_uri

    def describe(self) -> str:
        """One line for the notebook: who asks, and where the browser will be sent."""
        name = self.client.name or "an unnamed client"
        scopes = " ".join(self.scopes) or "(no scopes)"
        where = self.redirect_host
        return f"{self.approval_code}: {name!r} (self-declared name), back to {where}, scopes {scopes}"
