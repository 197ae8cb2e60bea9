"""OAuth clients of the built-in authorization server: registration (RFC 7591) and redirect URIs.

A client registers its redirect URIs once; every authorization request must then name one
of them exactly. What may be registered: ``https`` URIs (hosted clients: ChatGPT's
``https://chatgpt.com/connector_platform_oauth_redirect``, Claude's
``https://claude.ai/api/mcp/auth_callback``), and loopback ``http://127.0.0.1``,
``http://localhost`` or ``http://[::1]`` ones for desktop clients, whose port may differ
from request to request (RFC 8252 section 7.3). Nothing else: no other plain ``http``, no
fragments, no user info, no custom schemes.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from nbmcp.auth.oauth_error import OAuthError
from nbmcp.auth.store import digest

__all__ = [
    "AUTH_METHODS",
    "Client",
    "client_from_registration",
    "parse_scope",
    "redirect_matches",
    "validate_redirect_uri",
]

AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
"""How a client may authenticate at the token endpoint (``none``: a public client, PKCE only)."""

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_REDIRECT_URIS = 10
MAX_URI = 2000
MAX_NAME = 100
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 scope-token, bounded
MAX_SCOPES = 32


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client, as the store keeps it (its secret only as a digest)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    auth_method: str = "none"
    name: str | None = None
    secret_digest: str | None = None
    client_uri: str | None = None
    created: float = field(default_factory=time.time)
    document: bool = False
    """Described by a client ID metadata document (its ``client_id`` is that document's URL)."""

    def record(self) -> dict[str, Any]:
        """The JSON record the store keeps."""
        return {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "auth_method": self.auth_method,
            "name": self.name,
            "secret_digest": self.secret_digest,
            "client_uri": self.client_uri,
            "created": self.created,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Client:
        """The client a store record describes."""
        return cls(
            client_id=str(record["client_id"]),
            redirect_uris=tuple(str(u) for u in record.get("redirect_uris", ())),
            auth_method=str(record.get("auth_method") or "none"),
            name=record.get("name"),
            secret_digest=record.get("secret_digest"),
            client_uri=record.get("client_uri"),
            created=float(record.get("created") or 0.0),
        )

    def redirect_for(self, requested: str | None) -> str | None:
        """The redirect URI to use for a request naming ``requested``, or ``None`` if it is not ours.

        A request may leave it out only when exactly one URI is registered.
        """
        if requested is None:
            return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None
        for registered in self.redirect_uris:
            if redirect_matches(registered, requested):
                return requested
        return None


def validate_redirect_uri(uri: Any) -> str:
    """``uri`` if it may be registered (see the module docstring), else :class:`OAuthError`."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI:
        raise OAuthError(
            "invalid_redirect_uri", "each redirect URI must be a string of at most 2000 characters"
        )
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise OAuthError("invalid_redirect_uri", "a redirect URI is not a valid URL") from None
    if parts.fragment or "#" in uri:
        raise OAuthError("invalid_redirect_uri", "a redirect URI must not have a fragment")
    if parts.username is not None or parts.password is not None:
        raise OAuthError("invalid_redirect_uri", "a redirect URI must not carry user info")
    if any(ch.isspace() for ch in uri) or not host:
        raise OAuthError("invalid_redirect_uri", "a redirect URI needs a host and no spaces")
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and host.lower() in LOOPBACK:
        return uri
    raise OAuthError(
        "invalid_redirect_uri",
        "redirect URIs must be https, or http on a loopback address (127.0.0.1, localhost, [::1])",
    )


def _is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "").lower() in LOOPBACK


def redirect_matches(registered: str, requested: str) -> bool:
    """Exact match; for a loopback ``http`` URI, exact except for the port (RFC 8252 7.3)."""
    if registered == requested:
        return True
    if not (_is_loopback_http(registered) and _is_loopback_http(requested)):
        return False
    try:
        a, b = urlsplit(registered), urlsplit(requested)
        b.port  # noqa: B018 - a bad port does not match
    except ValueError:
        return False
    return (a.hostname, a.path, a.query) == (b.hostname, b.path, b.query) and "@" not in b.netloc


def parse_scope(value: Any) -> tuple[str, ...]:
    """A space-separated scope string as a sorted tuple of scope tokens, or :class:`OAuthError`."""
    if value is None or value == "":
        return ()
    if not isinstance(value, str):
        raise OAuthError("invalid_scope", "scope must be a space-separated string")
    tokens = sorted(set(value.split(" ")) - {""})
    if len(tokens) > MAX_SCOPES or not all(_SCOPE_TOKEN.match(t) for t in tokens):
        raise OAuthError("invalid_scope", "scope must be up to 32 space-separated tokens of printable ASCII")
    return tuple(tokens)


def _optional_text(metadata: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise OAuthError("invalid_client_metadata", f"{name} must be a string of at most {limit} characters")
    return "".join(ch for ch in value if ch.isprintable()) or None


def client_from_registration(metadata: Any) -> tuple[Client, dict[str, Any]]:
    """A new client from an RFC 7591 registration request, and the response to send.

    Raises:
        OAuthError: ``invalid_redirect_uri`` or ``invalid_client_metadata``.
    """
    if not isinstance(metadata, Mapping):
        raise OAuthError("invalid_client_metadata", "the registration request must be a JSON object")
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
        raise OAuthError("invalid_redirect_uri", "redirect_uris must be a list of 1 to 10 URIs")
    redirect_uris = tuple(dict.fromkeys(validate_redirect_uri(u) for u in uris))
    method = metadata.get("token_endpoint_auth_method", "none")
    if method not in AUTH_METHODS:
        raise OAuthError(
            "invalid_client_metadata", f"token_endpoint_auth_method must be one of {AUTH_METHODS}"
        )
    grants = metadata.get("grant_types", ["authorization_code", "refresh_token"])
    if not isinstance(grants, list) or "authorization_code" not in grants:
        raise OAuthError("invalid_client_metadata", "grant_types must include authorization_code")
    responses = metadata.get("response_types", ["code"])
    if not isinstance(responses, list) or "code" not in responses:
        raise OAuthError("invalid_client_metadata", "response_types must include code")
    scope = parse_scope(metadata.get("scope"))
    name = _optional_text(metadata, "client_name", MAX_NAME)
    client_uri = _optional_text(metadata, "client_uri", MAX_URI)
    secret = secrets.token_urlsafe(32) if method != "none" else None
    client = Client(
        client_id=f"nbmcp-{secrets.token_urlsafe(16)}",
        redirect_uris=redirect_uris,
        auth_method=method,
        name=name,
        secret_digest=digest(secret) if secret else None,
        client_uri=client_uri,
    )
    response: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created),
        "redirect_uris": list(redirect_uris),
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    }
    if secret is not None:
        response["client_secret"] = secret
        response["client_secret_expires_at"] = 0
    if name is not None:
        response["client_name"] = name
    if client_uri is not None:
        response["client_uri"] = client_uri
    if scope:
        response["scope"] = " ".join(scope)
    return client, response
