"""``securitySchemes`` that match how the server checks callers.

nbmcp's API key travels in ``X-API-Key`` or as ``Authorization: Bearer``; a ChatGPT Action
takes one authentication type, so the schema names one of them (``auth="header"``, the
default, or ``auth="bearer"``). OAuth 2 (authorization code) is described when the server is
configured for it: :class:`OAuth2` holds what the schema needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nbmcp.errors import SchemaError

__all__ = ["AUTH_STYLES", "AuthStyle", "OAuth2", "oauth_from", "security_schemes"]

AuthStyle = Literal["none", "header", "bearer", "oauth"]
AUTH_STYLES: tuple[str, ...] = ("none", "header", "bearer", "oauth")


@dataclass
class OAuth2:
    """An OAuth 2 authorization-code flow, as ChatGPT's Action editor asks for it.

    ChatGPT wants the authorization and token URLs on the same domain as the API (Google,
    Microsoft and Adobe excepted); the checker says so when they are not.
    """

    authorization_url: str
    token_url: str
    scopes: dict[str, str] = field(default_factory=dict)
    """Scope name -> what it allows."""


def oauth_from(value: Any) -> OAuth2 | None:
    """An :class:`OAuth2` from an ``OAuth2``, a mapping with the same keys, or ``None``."""
    if value is None or isinstance(value, OAuth2):
        return value
    if isinstance(value, dict):
        try:
            return OAuth2(
                authorization_url=str(value["authorization_url"]),
                token_url=str(value["token_url"]),
                scopes={str(k): str(v) for k, v in dict(value.get("scopes") or {}).items()},
            )
        except KeyError as exc:
            raise SchemaError(f"OAuth settings need {exc.args[0]!r}") from None
    raise SchemaError(f"OAuth settings must be an OAuth2 or a dict, not {type(value).__name__}")


def security_schemes(style: str, oauth: OAuth2 | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(components.securitySchemes, security)`` for one authentication style.

    Raises:
        SchemaError: an unknown style, or ``"oauth"`` without OAuth settings.
    """
    if style == "none":
        return {}, []
    if style == "header":
        return {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}, [{"ApiKeyAuth": []}]
    if style == "bearer":
        return {"BearerAuth": {"type": "http", "scheme": "bearer"}}, [{"BearerAuth": []}]
    if style == "oauth":
        if oauth is None:
            raise SchemaError("auth 'oauth' needs OAuth settings (authorization_url, token_url, scopes)")
        flow = {
            "authorizationUrl": oauth.authorization_url,
            "tokenUrl": oauth.token_url,
            "scopes": dict(oauth.scopes),
        }
        return (
            {"OAuth2": {"type": "oauth2", "flows": {"authorizationCode": flow}}},
            [{"OAuth2": sorted(oauth.scopes)}],
        )
    raise SchemaError(f"unknown auth style {style!r}; use one of {', '.join(AUTH_STYLES)}")
