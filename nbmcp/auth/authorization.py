"""The built-in OAuth 2.1 authorization server, without HTTP: clients, consent, codes, tokens.

The flow, as the HTTP doors drive it:

1. :meth:`AuthorizationServer.register` (RFC 7591) or a client ID metadata document names
   the client and its redirect URIs.
2. :meth:`~AuthorizationServer.begin` checks an authorization request (client, exact
   ``redirect_uri``, PKCE S256, scope, ``resource``) and holds it as a :class:`Pending`
   request for the consent page, with a CSRF token and a short approval code of its own.
3. The owner approves (the owner key on the page, or ``%mcp approve CODE`` in the notebook):
   :meth:`~AuthorizationServer.approve` mints a single-use code bound to the client, the
   redirect URI and the PKCE challenge, and returns where to send the browser (with ``code``,
   ``state`` and ``iss``, RFC 9207).
4. :meth:`~AuthorizationServer.token` trades the code (with its verifier) or a refresh token
   for tokens (:class:`~nbmcp.auth.grants.Grants`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nbmcp.auth.checks import CHALLENGE, VERIFIER, add_query, resource_ok, s256
from nbmcp.auth.clients import Client, client_from_registration, parse_scope
from nbmcp.auth.consent_request import Pending
from nbmcp.auth.grants import Grants
from nbmcp.auth.oauth_error import OAuthError
from nbmcp.auth.store import OAuthStore, digest
from nbmcp.principal import Principal

__all__ = ["AuthorizationServer", "Pending", "add_query"]

MAX_CLIENTS = 1000
MAX_PENDING = 500
MAX_FAILURES = 5

DocumentFetcher = Callable[[str], Awaitable[Client]]


class AuthorizationServer:
    """One server's authorization server: its clients, pending consents, codes and tokens.

    Args:
        store: Persistent state (signing key, clients, refresh families); see :mod:`nbmcp.auth.store`.
        fetch_document: Fetches a client ID metadata document (``client_id`` that is an https URL);
            ``None`` turns them off.
        code_ttl: Seconds an authorization code may wait for the token request.
        request_ttl: Seconds a consent page stays valid.
    """

    def __init__(
        self,
        store: OAuthStore,
        *,
        fetch_document: DocumentFetcher | None = None,
        access_ttl: float = 3600.0,
        refresh_ttl: float = 30 * 86400.0,
        code_ttl: float = 120.0,
        request_ttl: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.grants = Grants(store, access_ttl=access_ttl, refresh_ttl=refresh_ttl, clock=clock)
        self.fetch_document = fetch_document
        self.code_ttl = code_ttl
        self.request_ttl = request_ttl
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        self._codes: dict[str, dict[str, Any]] = {}

    # -- clients ----------------------------------------------------------------------------

    def register(self, metadata: Any) -> dict[str, Any]:
        """Register a client (RFC 7591); returns the registration response (its secret, if any, once)."""
        client, response = client_from_registration(metadata)
        clients = self.store.items("clients")
        changes: list[tuple[str, str, dict[str, Any] | None]] = []
        if len(clients) >= MAX_CLIENTS:  # an open endpoint must not grow the file without bound
            live = {str(f.get("client_id")) for _, f in self.store.items("families") if not f.get("revoked")}
            idle = sorted((float(r.get("created", 0)), k) for k, r in clients if k not in live)
            changes += [("clients", k, None) for _, k in idle[: len(clients) - MAX_CLIENTS + 1]]
        self.store.update([*changes, ("clients", client.client_id, client.record())])
        return response

    async def client(self, client_id: str) -> Client | None:
        """The client of that id: registered, or described by the metadata document at that URL."""
        if client_id.startswith("https://"):
            if self.fetch_document is None:
                return None
            return await self.fetch_document(client_id)
        record = self.store.get("clients", client_id)
        return Client.from_record(record) if record is not None else None

    # -- authorization requests --------------------------------------------------------------

    async def begin(self, params: Mapping[str, str], *, issuer: str, resource: str) -> Pending:
        """Check an authorization request and hold it for consent.

        ``resource`` is this server's MCP URL (the default audience). Errors that may not be
        redirected (unknown client, a ``redirect_uri`` it did not register) come without
        ``redirect_uri``; the rest are to be sent back to the client.
        """
        client_id = params.get("client_id") or ""
        try:
            client = await self.client(client_id) if client_id else None
        except OAuthError as exc:
            raise OAuthError("invalid_client", exc.description) from None
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id: register the client first")
        redirect_uri = client.redirect_for(params.get("redirect_uri"))
        if redirect_uri is None:
            raise OAuthError("invalid_request", "redirect_uri is not one this client registered")
        state = params.get("state")

        def back(error: str, description: str) -> OAuthError:
            return OAuthError(error, description, redirect_uri=redirect_uri, state=state)

        if params.get("response_type") != "code":
            raise back("unsupported_response_type", "only response_type=code is supported")
        challenge = params.get("code_challenge")
        if not challenge:
            raise back("invalid_request", "PKCE is required: send code_challenge with method S256")
        if params.get("code_challenge_method") != "S256":
            raise back("invalid_request", "only code_challenge_method=S256 is supported (not plain)")
        if not CHALLENGE.match(challenge):
            raise back("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)")
        try:
            scopes = parse_scope(params.get("scope"))
        except OAuthError as exc:
            raise back(exc.error, exc.description) from None
        audience = params.get("resource") or resource
        if audience.rstrip("/") in (issuer, resource):  # the server's own URL, however spelt: its MCP URL
            audience = resource
        if not resource_ok(audience, issuer):
            raise back("invalid_target", "resource must be a URL of this server")
        now = self.clock()
        self._drop_stale(now)
        pending = Pending.new(
            client, redirect_uri, state, challenge, scopes, audience, issuer, now + self.request_ttl
        )
        self._pending[pending.id] = pending
        return pending

    def pending(self, request_id: str) -> Pending | None:
        """A held authorization request (``None`` if unknown or expired)."""
        found = self._pending.get(request_id)
        if found is None or found.expires <= self.clock():
            return None
        return found

    def waiting(self) -> list[Pending]:
        """The requests waiting for the owner, oldest first (for ``%mcp approve``)."""
        now = self.clock()
        return [p for p in list(self._pending.values()) if p.expires > now and not p.approved]

    def approve_code(self, code: str) -> Pending | None:
        """Approve the request whose page shows ``code`` (from the notebook); ``None`` if none does."""
        wanted = code.strip().upper().replace("-", "").replace(" ", "")
        for found in self.waiting():
            if hmac.compare_digest(found.approval_code.replace("-", ""), wanted):
                found.approved = True
                return found
        return None

    def failed(self, pending: Pending) -> bool:
        """Count a wrong owner key on this request's page; ``True`` when it may try again."""
        pending.failures += 1
        if pending.failures >= MAX_FAILURES:
            self._pending.pop(pending.id, None)
            return False
        return True

    def approve(self, pending: Pending) -> str:
        """Consent given: a single-use code, and the URL to send the browser to."""
        self._pending.pop(pending.id, None)
        code = secrets.token_urlsafe(32)
        self._codes[digest(code)] = {
            "client_id": pending.client.client_id,
            "redirect_uri": pending.redirect_uri,
            "challenge": pending.code_challenge,
            "scopes": pending.scopes,
            "resource": pending.resource,
            "issuer": pending.issuer,
            "exp": self.clock() + self.code_ttl,
            "family": None,
        }
        return add_query(pending.redirect_uri, {"code": code, "state": pending.state, "iss": pending.issuer})

    def deny(self, pending: Pending) -> str:
        """Consent refused: where to send the browser (``error=access_denied``)."""
        self._pending.pop(pending.id, None)
        params = {"error": "access_denied", "error_description": "the owner did not approve this client"}
        return add_query(pending.redirect_uri, {**params, "state": pending.state, "iss": pending.issuer})

    def _drop_stale(self, now: float) -> None:
        for key in [k for k, p in self._pending.items() if p.expires <= now]:
            del self._pending[key]
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        for key in [k for k, c in self._codes.items() if c["exp"] <= now]:
            del self._codes[key]

    # -- the token endpoint -----------------------------------------------------------------

    async def token(self, form: Mapping[str, str], basic: tuple[str, str] | None = None) -> dict[str, Any]:
        """The token endpoint: a code or refresh grant, or :class:`OAuthError`."""
        client = await self._authenticate(form, basic)
        grant_type = form.get("grant_type")
        resource = form.get("resource") or None
        if grant_type == "refresh_token":
            token = form.get("refresh_token") or ""
            scope = parse_scope(form["scope"]) if "scope" in form else None
            return self.grants.refresh(token, client_id=client.client_id, scope=scope, resource=resource)
        if grant_type != "authorization_code":
            raise OAuthError(
                "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
            )
        code = self._codes.get(digest(form.get("code") or ""))
        if code is None or code["exp"] <= self.clock() or code["client_id"] != client.client_id:
            raise OAuthError(
                "invalid_grant", "the authorization code is unknown, expired or not this client's"
            )
        if code["family"] is not None:  # a second use: whoever holds it is not to be trusted
            self.grants.revoke_family(code["family"])
            raise OAuthError("invalid_grant", "the authorization code was already used")
        if form.get("redirect_uri", code["redirect_uri"]) != code["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
        verifier = form.get("code_verifier") or ""
        if not VERIFIER.match(verifier) or not hmac.compare_digest(s256(verifier), code["challenge"]):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
        if resource is not None and resource != code["resource"]:
            raise OAuthError("invalid_target", "resource differs from the authorization request's")
        answer = self.grants.issue(
            client_id=client.client_id,
            scopes=code["scopes"],
            resource=code["resource"],
            issuer=code["issuer"],
        )
        code["family"] = self._family_of(answer["refresh_token"])
        return answer

    def _family_of(self, refresh_token: str) -> str:
        grant = self.store.get("refresh", digest(refresh_token))
        return str(grant["family"]) if grant else ""

    async def _authenticate(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> Client:
        """The client making a token or revocation request (its secret checked if it has one)."""
        client_id, secret = (
            basic if basic is not None else (form.get("client_id") or "", form.get("client_secret"))
        )
        if basic is not None and form.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_client", "client_id differs from the Basic credentials", status=401)
        try:
            client = await self.client(client_id) if client_id else None
        except OAuthError:
            client = None
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id", status=401)
        if client.secret_digest is not None:
            given = digest(secret) if secret else ""
            if not hmac.compare_digest(given, client.secret_digest):
                raise OAuthError("invalid_client", "client authentication failed", status=401)
        return client

    async def revoke(self, form: Mapping[str, str], basic: tuple[str, str] | None = None) -> None:
        """RFC 7009 revocation; a token that is unknown or not the client's is ignored."""
        client_id: str | None = None
        if basic is not None or form.get("client_id"):
            client_id = (await self._authenticate(form, basic)).client_id
        token = form.get("token") or ""
        if token:
            self.grants.revoke(token, client_id=client_id)

    # -- TokenVerifier ----------------------------------------------------------------------

    def authorization_server(self, base_url: str) -> str:
        """This server is its own issuer: its base URL."""
        return base_url.rstrip("/")

    async def verify(self, token: str, resource: str) -> Principal | None:
        """The principal of an access token this server issued for ``resource``."""
        return self.grants.verify(token, resource)
