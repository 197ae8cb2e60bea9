"""``OAuthIssuer``: accept access tokens from an outside issuer (Auth0, Okta, Entra, Keycloak...).

nbmcp is then a resource server only: the issuer signs JWT access tokens, nbmcp checks them.
Its metadata (``/.well-known/openid-configuration``, else RFC 8414's
``/.well-known/oauth-authorization-server``) and its JWKS are fetched on first use over HTTPS
(plain HTTP only for an issuer on this machine, for tests), each fetch bounded in time and
size and never following a redirect, then cached. A token whose ``kid`` is not in the cached
JWKS makes it fetch the set again (the issuer rotated its keys), at most once every
``refetch_interval`` seconds, so forged ``kid`` values cannot make it hammer the issuer.

Tokens are checked by :func:`nbmcp.auth.tokens.verify_jwt`: signature with an asymmetric
algorithm of the allow-list only (never ``none``, never an HMAC key from the JWKS), ``iss``,
``aud``, ``exp``, ``nbf``. Verified tokens are remembered (by their SHA-256, bounded) until
they expire, so a busy client costs one signature check per token, not one per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from nbmcp.auth.discovery import DISCOVERY, IssuerError, check_url, discover, fetch_json, metadata_urls
from nbmcp.auth.tokens import (
    ASYMMETRIC_ALGORITHMS,
    LEEWAY,
    InvalidToken,
    key_fits,
    load_jwk,
    principal_from_claims,
    token_header,
    verify_jwt,
)
from nbmcp.principal import Principal

__all__ = ["IssuerError", "OAuthIssuer"]

logger = logging.getLogger("nbmcp")

_MAX_KEYS = 64
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 section 3.3 scope-token
"""The most keys of a JWKS kept (a JWKS is a handful; a huge one is cut, not searched)."""


class OAuthIssuer:
    """Tokens from an outside OAuth 2 / OpenID Connect issuer: ``MCPServer(auth=OAuthIssuer(...))``.

    Args:
        issuer: The issuer identifier, exactly as its tokens' ``iss`` says (``https://...``).
        audience: The ``aud`` a token must carry for this server (the API identifier the
            issuer was told about); several may be given.
        scopes: Scopes every token must carry (a token without them gets 403).
        algorithms: Signature algorithms accepted; asymmetric ones only.
        jwks_uri: Skip discovery and take the keys from here.
        discovery: Which well-known documents to try (``"openid-configuration"``,
            ``"oauth-authorization-server"``).
        leeway: Seconds of clock skew allowed on ``exp`` and ``nbf``.
        timeout: Seconds one fetch of metadata or keys may take.
        max_bytes: The largest metadata or JWKS document read.
        jwks_ttl: Seconds the keys are kept before they are fetched again.
        refetch_interval: The least time between two fetches caused by an unknown ``kid``.
        cache_size: How many verified tokens are remembered (until their ``exp``).

    Raises:
        IssuerError: a URL that is not https, no audience, a symmetric algorithm, or a
            scope that is not an RFC 6749 scope token.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str],
        *,
        scopes: Iterable[str] = (),
        algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS,
        jwks_uri: str | None = None,
        discovery: Sequence[str] = DISCOVERY,
        leeway: float = LEEWAY,
        timeout: float = 5.0,
        max_bytes: int = 256 * 1024,
        jwks_ttl: float = 3600.0,
        refetch_interval: float = 30.0,
        cache_size: int = 4096,
    ) -> None:
        self.issuer = check_url(str(issuer), "the issuer", allow_http=True)
        self._http_ok = urlsplit(self.issuer).scheme == "http"
        audiences = [audience] if isinstance(audience, str) else list(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise IssuerError("OAuthIssuer needs an audience: the API identifier its tokens carry in 'aud'")
        self.audience: list[str] = audiences
        self.required_scopes: frozenset[str] = frozenset(scopes)
        if not all(isinstance(s, str) and _SCOPE.match(s) for s in self.required_scopes):
            raise IssuerError("scopes must be scope names without spaces, quotes or backslashes")
        """Scopes every token must carry (the guard chain answers 403 ``insufficient_scope``)."""
        wrong = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if wrong or not algorithms:
            raise IssuerError(f"only asymmetric algorithms are accepted ({', '.join(ASYMMETRIC_ALGORITHMS)})")
        self.algorithms = tuple(algorithms)
        self.jwks_uri = check_url(jwks_uri, "jwks_uri", allow_http=self._http_ok) if jwks_uri else None
        self.discovery = tuple(discovery)
        self.leeway = leeway
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.jwks_ttl = jwks_ttl
        self.refetch_interval = refetch_interval
        self.metadata: dict[str, Any] | None = None
        """The issuer's metadata document, once discovered."""
        self._expected_iss = self.issuer
        self._jwks: list[dict[str, Any]] = []
        self._loaded: dict[tuple[int, str], Any] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._forced_at: float | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._verified: dict[bytes, tuple[Principal, float]] = {}
        self._cache_size = cache_size
        self._clock: Callable[[], float] = time.monotonic
        self._now: Callable[[], float] = time.time

    @classmethod
    def auth0(cls, domain: str, audience: str | Sequence[str], **options: Any) -> OAuthIssuer:
        """Auth0 (the seed's ``provider: "auth0"``): ``OAuthIssuer.auth0("tenant.eu.auth0.com", "https://api")``.

        Auth0's ``iss`` is ``https://DOMAIN/`` (with the slash); custom domains work the same.
        """
        host = domain.strip()
        if "://" in host:
            host = urlsplit(host).netloc
        host = host.strip("/")
        if not host:
            raise IssuerError("OAuthIssuer.auth0 needs the tenant's domain, e.g. 'tenant.eu.auth0.com'")
        return cls(f"https://{host}/", audience, **options)

    @classmethod
    def oidc(cls, issuer: str, audience: str | Sequence[str], **options: Any) -> OAuthIssuer:
        """Any OpenID Connect issuer, found through its ``/.well-known/openid-configuration``."""
        options.setdefault("discovery", ("openid-configuration",))
        return cls(issuer, audience, **options)

    def __repr__(self) -> str:
        return f"OAuthIssuer(issuer={self.issuer!r}, audience={self.audience!r})"

    # -- TokenVerifier -------------------------------------------------------------------

    def authorization_server(self, base_url: str) -> str:
        """The issuer, named as this server's authorization server in its RFC 9728 metadata."""
        return self.issuer

    async def verify(self, token: str, resource: str) -> Principal | None:
        """The token's principal, or ``None`` (forged, expired, for another audience...)."""
        try:
            return await self._verify(token)
        except InvalidToken as exc:
            logger.debug("nbmcp: bearer token refused: %s", exc)
        except IssuerError as exc:
            logger.warning("nbmcp: cannot check tokens of %s: %s", self.issuer, exc)
        return None

    async def _verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        cached = self._verified.get(digest)
        if cached is not None and cached[1] > self._now():
            return cached[0]
        header = token_header(token)
        algorithm = header["alg"]
        if algorithm not in self.algorithms:
            raise InvalidToken(f"algorithm {algorithm[:16]!r} not allowed")
        kid = header.get("kid")
        kid = kid if isinstance(kid, str) else None
        keys = await self._keys_for(kid, algorithm)
        if not keys:
            raise InvalidToken("signed with a key the issuer does not publish")
        claims: dict[str, Any] | None = None
        for index, jwk in enumerate(keys):
            try:
                claims = verify_jwt(
                    token,
                    self._key(jwk, algorithm),
                    issuer=self._expected_iss,
                    audience=self.audience,
                    algorithms=[algorithm],
                    leeway=self.leeway,
                )
                break
            except InvalidToken as exc:
                if str(exc) != "bad signature" or index == len(keys) - 1:
                    raise
        assert claims is not None
        principal = principal_from_claims(claims)
        self._remember(digest, principal, claims.get("exp"))
        return principal

    def _key(self, jwk: dict[str, Any], algorithm: str) -> Any:
        slot = (id(jwk), algorithm)
        key = self._loaded.get(slot)
        if key is None:
            key = self._loaded[slot] = load_jwk(jwk, algorithm)
        return key

    def _remember(self, digest: bytes, principal: Principal, exp: Any) -> None:
        if not isinstance(exp, (int, float)) or self._cache_size <= 0:
            return
        while len(self._verified) >= self._cache_size:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[digest] = (principal, float(exp))

    # -- keys ------------------------------------------------------------------------------

    def _matching(self, kid: str | None, algorithm: str) -> list[dict[str, Any]]:
        return [k for k in self._jwks if (kid is None or k.get("kid") == kid) and key_fits(k, algorithm)]

    async def _keys_for(self, kid: str | None, algorithm: str) -> list[dict[str, Any]]:
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self.jwks_ttl
        if stale and not self._backing_off(now):
            try:
                await self._refresh()
            except IssuerError:
                if not self._jwks:
                    raise
                logger.warning("nbmcp: cannot refresh the keys of %s; using the ones it had", self.issuer)
        keys = self._matching(kid, algorithm)
        may_refetch = self._forced_at is None or now - self._forced_at >= self.refetch_interval
        if not keys and kid is not None and self._fetched_at is not None and may_refetch:
            self._forced_at = now  # an unknown kid: the issuer may have rotated its keys
            await self._refresh()
            keys = self._matching(kid, algorithm)
        return keys

    def _backing_off(self, now: float) -> bool:
        return self._failed_at is not None and now - self._failed_at < self.refetch_interval

    async def _refresh(self) -> None:
        await asyncio.to_thread(self._refresh_sync, self._generation)

    def _refresh_sync(self, seen: int) -> None:
        """Fetch the JWKS (discovering the metadata first if needed); one thread at a time."""
        with self._lock:
            if self._generation != seen:  # another request fetched while this one waited
                return
            try:
                keys = self._fetch_keys()
            except IssuerError:
                self._failed_at = self._clock()
                self.metadata = None if self.jwks_uri is None else self.metadata
                raise
            self._jwks = keys
            self._loaded = {}
            self._fetched_at = self._clock()
            self._failed_at = None
            self._generation += 1

    def _fetch(self, url: str) -> dict[str, Any]:
        return fetch_json(url, timeout=self.timeout, max_bytes=self.max_bytes)

    def _fetch_keys(self) -> list[dict[str, Any]]:
        jwks_uri = self.jwks_uri or self._discover()
        document = self._fetch(jwks_uri)
        found = document.get("keys")
        if not isinstance(found, list):
            raise IssuerError(f"{jwks_uri}: not a JWKS (no 'keys' list)")
        keys = [k for k in found if isinstance(k, dict) and k.get("kty") in ("RSA", "EC", "OKP")]
        return keys[:_MAX_KEYS]

    def metadata_urls(self) -> list[str]:
        """Where the metadata is looked for (see :func:`~nbmcp.auth.discovery.metadata_urls`)."""
        return metadata_urls(self.issuer, self.discovery)

    def _discover(self) -> str:
        """The JWKS URL from the issuer's metadata (kept in :attr:`metadata`)."""
        if self.metadata is None:
            self.metadata = discover(
                self.issuer, self.discovery, timeout=self.timeout, max_bytes=self.max_bytes
            )
            self._expected_iss = self.metadata["issuer"]  # as the issuer spells itself (Auth0's slash)
        return str(self.metadata["jwks_uri"])

    def check(self) -> None:
        """Fetch the metadata and keys now (``nbmcp serve`` does, to report a wrong URL at once).

        Raises:
            IssuerError: the issuer cannot be reached or its documents are not usable.
        """
        self._refresh_sync(self._generation)
        if not self._jwks:
            raise IssuerError(f"{self.issuer} publishes no RSA, EC or OKP signing key")
