"""The built-in OAuth 2.1 authorization server's HTTP side: ``MCPServer(auth="oauth")``.

:func:`install_builtin_oauth` gives the server a :class:`BuiltinOAuth`: it is the server's
``token_verifier`` (it checks the access tokens it issued) and it serves, as raw doors behind
the guard chain, at the root as clients expect:

- ``/.well-known/oauth-authorization-server`` (RFC 8414) and ``/.well-known/openid-configuration``,
- ``/authorize`` (the consent page), ``/token``, ``/register`` (RFC 7591), ``/revoke`` (RFC 7009).

The protected-resource metadata (RFC 9728) and the 401 challenge that points to it belong to
the authentication layer (:mod:`nbmcp.http.auth`), which names this server as the issuer.

State is kept per server identity (the server's name and URL) in a
:class:`~nbmcp.auth.store.FileStore` under the user's config directory, so tokens and
registrations survive a restart at the same URL; ``configure(store="memory")`` (or
``NBMCP_OAUTH_STORE=memory``) keeps them in memory only.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from nbmcp.auth.authorization import AuthorizationServer, Pending
from nbmcp.auth.client_metadata import DocumentCache
from nbmcp.auth.clients import Client
from nbmcp.auth.grants import generation, invalidate
from nbmcp.auth.store import FileStore, MemoryStore, OAuthStore, store_path
from nbmcp.config import OWNER_LABEL, ServerConfig
from nbmcp.http.asgi import ASGIApp, Scope
from nbmcp.http.oauth_doors import OAuthDoors
from nbmcp.http.resource_metadata import base_url
from nbmcp.principal import Principal

__all__ = [
    "OAUTH_PATHS",
    "BuiltinOAuth",
    "OAuthHost",
    "install_builtin_oauth",
    "reinstall_builtin_oauth",
    "uninstall_builtin_oauth",
]

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
OAUTH_PATHS = frozenset({*METADATA_PATHS, "/authorize", "/token", "/register", "/revoke"})
"""The doors this server adds; all open without credentials (they are how one gets them)."""


class OAuthHost(Protocol):
    """What the authorization server reads of its :class:`~nbmcp.MCPServer` (no import of it: layers)."""

    config: ServerConfig
    info: Any
    registry: Any
    token_verifier: Any
    doors: dict[str, Any]

    @property
    def name(self) -> str: ...

    @property
    def port(self) -> int | None: ...


class BuiltinOAuth:
    """The built-in authorization server of one :class:`~nbmcp.MCPServer` (``server.oauth``).

    Attributes:
        generated_key: The owner key made for this server when none was configured (it is
            also ``server.config.api_key``); ``None`` when the owner brought one.
        open_paths: The paths of its doors, which need no credentials.
    """

    open_paths = OAUTH_PATHS

    def __init__(
        self, server: OAuthHost, *, store: OAuthStore | str | os.PathLike[str] | None = None
    ) -> None:
        self.server = server
        self.generated_key: str | None = None
        self.access_ttl = 3600.0
        self.refresh_ttl = 30 * 86400.0
        self.documents = DocumentCache()
        """Client ID metadata documents fetched (https only, never to a private address), cached."""
        self._store_option = store
        self._authorities: dict[str, AuthorizationServer] = {}
        self._recent: tuple[tuple[object, ...], AuthorizationServer] | None = None
        """The last (where, authority) :meth:`verify` used: a busy client's calls skip the lookup."""
        self._lock = threading.Lock()
        self.doors = OAuthDoors(self)

    def configure(
        self,
        *,
        store: OAuthStore | str | os.PathLike[str] | None = None,
        access_ttl: float | None = None,
        refresh_ttl: float | None = None,
    ) -> None:
        """Change where state is kept (``"memory"``, a directory, an :class:`OAuthStore`) or token lifetimes.

        Takes effect for the authorization server made next: call it before serving.
        """
        with self._lock:
            if store is not None:
                self._store_option = store
            if access_ttl is not None:
                self.access_ttl = access_ttl
            if refresh_ttl is not None:
                self.refresh_ttl = refresh_ttl
            self._authorities.clear()
            self._recent = None
            invalidate()  # tokens verified against the old stores are checked again

    # -- which server, which store -----------------------------------------------------------

    def base_url(self, scope: Scope) -> str:
        """This server's base URL as the client sees it (the issuer): the public URL, else scheme and Host.

        The same URL the protected-resource metadata names as the authorization server.
        """
        return base_url(scope, self.server.config)

    def _identity(self, base: str) -> str:
        config = self.server.config
        if config.public_url:
            where = config.public_url.rstrip("/")
        elif self.server.port:
            where = f"http://{config.host}:{self.server.port}"
        else:
            where = base
        return f"{self.server.name} {where}"

    def _open_store(self, identity: str) -> OAuthStore:
        option = self._store_option or os.environ.get("NBMCP_OAUTH_STORE") or None
        if option == "memory":
            return MemoryStore()
        if option is not None and not isinstance(option, (str, os.PathLike)):
            return option
        return FileStore(store_path(identity, Path(option) if option else None))

    def authority(self, base: str) -> AuthorizationServer:
        """The authorization server for this server at ``base`` (made, with its store, on first use)."""
        identity = self._identity(base)
        with self._lock:
            found = self._authorities.get(identity)
            if found is None:
                found = AuthorizationServer(
                    self._open_store(identity),
                    fetch_document=self._document,
                    access_ttl=self.access_ttl,
                    refresh_ttl=self.refresh_ttl,
                )
                self._authorities[identity] = found
            return found

    async def _document(self, url: str) -> Client:
        return await self.documents.client(url)  # read now: a test or an owner may swap the cache

    # -- TokenVerifier ----------------------------------------------------------------------

    def authorization_server(self, base_url: str) -> str:
        """This server is its own authorization server: the issuer is its base URL."""
        return base_url.rstrip("/")

    async def verify(self, token: str, resource: str) -> Principal | None:
        """The principal of an access token this server issued for ``resource`` (the MCP URL)."""
        config = self.server.config
        where = (resource, config.public_url, config.host, self.server.port)
        recent = self._recent
        if recent is not None and recent[0] == where:
            authority = recent[1]
        else:
            base = resource[: -len("/mcp")] if resource.endswith("/mcp") else resource
            authority = self.authority(base)
            self._recent = (where, authority)
        return authority.grants.verify(token, resource)  # sync: no coroutine per call

    @property
    def revision(self) -> int:
        """Moves on every revocation (see :class:`~nbmcp.http.auth.AuthLayer`'s token cache)."""
        return generation()

    # -- the owner --------------------------------------------------------------------------

    def owner_keys(self) -> list[str]:
        """The keys that may approve clients: ``api_key`` and the key labelled ``owner``."""
        config = self.server.config
        return [k for k in (config.api_key, config.api_keys.get(OWNER_LABEL)) if k]

    def _current(self) -> AuthorizationServer | None:
        with self._lock:
            return next(reversed(self._authorities.values()), None)

    def waiting(self) -> list[Pending]:
        """Authorization requests waiting for the owner (their pages show an approval code)."""
        current = self._current()
        return current.waiting() if current is not None else []

    def approve(self, code: str) -> Pending | None:
        """Approve, from the notebook, the request whose page shows ``code``; ``None`` if none does.

        The browser then goes on with the page's Continue button.
        """
        current = self._current()
        return current.approve_code(code) if current is not None else None

    def scopes_supported(self) -> list[str]:
        """The scopes the server's tools ask for (``@server.tool(scopes=[...])``)."""
        found: set[str] = set()
        for tool in self.server.registry.tools.values():
            found.update(getattr(tool, "scopes", None) or ())
        return sorted(found)

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The RFC 8414 authorization server metadata for ``issuer``."""
        methods = ["none", "client_secret_post", "client_secret_basic"]
        document: dict[str, Any] = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "registration_endpoint": f"{issuer}/register",
            "revocation_endpoint": f"{issuer}/revoke",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "authorization_response_iss_parameter_supported": True,
            "client_id_metadata_document_supported": True,
        }
        scopes = self.scopes_supported()
        if scopes:
            document["scopes_supported"] = scopes
        return document

    def door_map(self) -> Mapping[str, ASGIApp]:
        """The doors to add to ``server.doors``, by path."""
        return dict.fromkeys(OAUTH_PATHS, self.doors)

    def __repr__(self) -> str:
        return f"<BuiltinOAuth for {self.server.name!r}>"


def install_builtin_oauth(server: OAuthHost) -> BuiltinOAuth:
    """Turn on the built-in authorization server for ``server`` (``MCPServer(auth="oauth")``).

    Sets ``server.token_verifier`` and adds the OAuth doors. When no owner key is configured,
    one is generated (``server.access_key``); it never appears in logs or cell outputs whole.
    """
    oauth = BuiltinOAuth(server)
    config = server.config
    if not config.api_key and not config.api_keys.get(OWNER_LABEL):
        oauth.generated_key = secrets.token_urlsafe(24)
        config.api_key = oauth.generated_key
    server.token_verifier = oauth
    server.doors.update(oauth.door_map())
    return oauth


def reinstall_builtin_oauth(server: OAuthHost, oauth: BuiltinOAuth) -> None:
    """Turn ``oauth`` back on for ``server`` after :func:`uninstall_builtin_oauth` (same key, same store)."""
    config = server.config
    if oauth.generated_key and not config.api_key and not config.api_keys.get(OWNER_LABEL):
        config.api_key = oauth.generated_key
    server.token_verifier = oauth
    server.doors.update(oauth.door_map())


def uninstall_builtin_oauth(server: OAuthHost, oauth: BuiltinOAuth) -> None:
    """Turn the built-in authorization server off again: its doors go, its generated key stops working."""
    if server.token_verifier is oauth:
        server.token_verifier = None
    for path in oauth.door_map():
        server.doors.pop(path, None)
    if oauth.generated_key and server.config.api_key == oauth.generated_key:
        server.config.api_key = None
