"""The one error the built-in authorization server raises: an OAuth error response, described.

It carries what RFC 6749 asks an answer to say (``error``, ``error_description``) and where
it goes: back to the client's ``redirect_uri`` when that URI is known to be the client's, on
an error page otherwise (an unknown client or an unregistered ``redirect_uri`` must never be
redirected to), or as JSON from the token, registration and revocation endpoints.
"""

from __future__ import annotations

from nbmcp.errors import NbmcpError

__all__ = ["OAuthError"]


class OAuthError(NbmcpError):
    """An OAuth error response.

    Attributes:
        error: The RFC 6749 / 7591 error code (``invalid_request``, ``invalid_grant``...).
        description: One line a person can act on; never holds a secret.
        status: The HTTP status when answered as JSON or as an error page.
        redirect_uri: Set when the error is to be sent back to the client's (verified)
            redirect URI, with ``state`` and ``iss``.
        state: The request's ``state``, echoed with a redirected error.
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        redirect_uri: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.redirect_uri = redirect_uri
        self.state = state

    def body(self) -> dict[str, str]:
        """The JSON body of the error (token, registration and revocation endpoints)."""
        return {"error": self.error, "error_description": self.description}
