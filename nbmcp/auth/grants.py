"""Tokens the built-in server hands out: access JWTs, rotating refresh tokens, revocation.

A grant (one approval of one client) starts a *family*. Every refresh spends the family's
current refresh token and returns a new one; a spent token presented again means it was
copied, so the whole family is revoked at once (OAuth 2.1 section 4.3.1): its refresh tokens
stop working and so do the access tokens minted from it, since every access token names its
family (``fam``) and :meth:`Grants.verify` checks the family is alive. Revoking an access token
(RFC 7009) puts its ``jti`` on a revoked list until it would have expired anyway.

Refresh tokens are opaque random strings stored only as digests; the families, spent tokens
and revoked ids are kept in the store so all of this holds across a restart.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from nbmcp.auth.oauth_error import OAuthError
from nbmcp.auth.signing import SigningKey
from nbmcp.auth.store import OAuthStore, digest
from nbmcp.principal import Principal

__all__ = ["Grants", "generation", "invalidate"]

REFRESH_PREFIX = "nbr_"
_CACHE_MAX = 4096


_generation = [0]


def generation() -> int:
    """Moves on every revocation in this process, in any store (one read, however many stores).

    Whoever keeps verified tokens (the guard's token cache) compares it with the value it saw
    when it verified them, and verifies again when it moved.
    """
    return _generation[0]


def invalidate() -> None:
    """Make every kept verification stale (a token revoked, a store swapped)."""
    _generation[0] += 1


class Grants:
    """Mints, rotates, revokes and verifies the tokens of one server (one store).

    Args:
        store: Where families, refresh tokens and revoked ids are kept.
        access_ttl: Seconds an access token lives (short: refresh is cheap).
        refresh_ttl: Seconds a family lives without being refreshed.
        clock: ``time.time`` or a stand-in for tests.
    """

    def __init__(
        self,
        store: OAuthStore,
        *,
        access_ttl: float = 3600.0,
        refresh_ttl: float = 30 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.key = SigningKey(store)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[Principal, float, str]] = {}
        self.revision = 0
        """Counts revocations: whoever keeps verified tokens drops them when it moves."""
        self._pruned = 0.0

    # -- minting ----------------------------------------------------------------------------

    def issue(
        self,
        *,
        client_id: str,
        scopes: tuple[str, ...],
        resource: str,
        issuer: str,
        subject: str = "owner",
        family: str | None = None,
    ) -> dict[str, Any]:
        """A token response (RFC 6749 5.1): an access JWT for ``resource`` and a new refresh token."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            family = family or secrets.token_urlsafe(16)
            claims = {
                "iss": issuer,
                "sub": subject,
                "aud": resource,
                "client_id": client_id,
                "scope": " ".join(scopes),
                "iat": int(now),
                "exp": int(now + self.access_ttl),
                "jti": secrets.token_urlsafe(16),
                "fam": family,
            }
            access = self.key.sign(claims)
            refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
            grant: dict[str, Any] = {
                "family": family,
                "client_id": client_id,
                "scopes": list(scopes),
                "resource": resource,
                "issuer": issuer,
                "subject": subject,
                "exp": now + self.refresh_ttl,
                "used": False,
            }
            fam = {"client_id": client_id, "exp": now + self.refresh_ttl, "revoked": False}
            self.store.update([("families", family, fam), ("refresh", digest(refresh), grant)])
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
            "refresh_token": refresh,
        }
        if scopes:
            answer["scope"] = " ".join(scopes)
        return answer

    def refresh(
        self, token: str, *, client_id: str, scope: tuple[str, ...] | None, resource: str | None
    ) -> dict[str, Any]:
        """Spend ``token`` for a fresh pair in the same family; a spent one revokes the family."""
        now = self.clock()
        with self._lock:
            key = digest(token)
            grant = self.store.get("refresh", key)
            if grant is None or grant.get("client_id") != client_id:
                raise OAuthError("invalid_grant", "unknown refresh token")
            family = str(grant["family"])
            fam = self.store.get("families", family)
            if fam is None or fam.get("revoked") or float(grant["exp"]) <= now:
                raise OAuthError("invalid_grant", "the refresh token is expired or revoked")
            if grant.get("used"):
                self.revoke_family(family)
                raise OAuthError(
                    "invalid_grant", "refresh token used twice: every token of this grant is revoked"
                )
            granted = tuple(grant.get("scopes", ()))
            if scope is not None and not set(scope) <= set(granted):
                raise OAuthError("invalid_scope", "a refresh may only narrow the granted scope")
            if resource is not None and resource != grant["resource"]:
                raise OAuthError("invalid_target", "the resource differs from the one granted")
            self.store.put("refresh", key, {**grant, "used": True})
            return self.issue(
                client_id=client_id,
                scopes=granted if scope is None else scope,
                resource=str(grant["resource"]),
                issuer=str(grant["issuer"]),
                subject=str(grant["subject"]),
                family=family,
            )

    # -- revoking ---------------------------------------------------------------------------

    def revoke_family(self, family: str) -> None:
        """Revoke a grant at once: its refresh tokens and every access token minted from it."""
        with self._lock:
            fam = self.store.get("families", family)
            if fam is not None and not fam.get("revoked"):
                self.store.put("families", family, {**fam, "revoked": True})
            self._cache.clear()
            self.revision += 1
            invalidate()

    def revoke(self, token: str, *, client_id: str | None) -> None:
        """RFC 7009: revoke a refresh token (its family) or an access token; unknown tokens are ignored."""
        if token.startswith(REFRESH_PREFIX):
            grant = self.store.get("refresh", digest(token))
            if grant is not None and client_id in (None, grant.get("client_id")):
                self.revoke_family(str(grant["family"]))
            return
        claims = self.key.verify(token, None, check_expiry=False)
        if claims is None or client_id not in (None, claims.get("client_id")):
            return
        with self._lock:
            self.store.put("revoked", str(claims["jti"]), {"exp": float(claims["exp"])})
            self._cache.clear()
            self.revision += 1
            invalidate()

    # -- verifying --------------------------------------------------------------------------

    def verify(self, token: str, resource: str) -> Principal | None:
        """The principal of an access token this server issued for ``resource``, else ``None``.

        A verified token is cached until it expires (the cache is dropped on any revocation),
        so a busy client pays for the signature check once.
        """
        now = self.clock()
        cached = self._cache.get(token)
        if cached is not None:
            principal, exp, aud = cached
            if now < exp and aud == resource:
                return principal
        claims = self.key.verify(token, resource)
        if claims is None or not self._alive(claims):
            return None
        if not isinstance(claims.get("scope", ""), str) or not isinstance(claims.get("sub"), str):
            return None
        principal = Principal(
            name=claims["sub"],
            kind="token",
            client_id=str(claims.get("client_id") or "") or None,
            scopes=frozenset(str(claims.get("scope") or "").split()),
            claims=MappingProxyType(dict(claims)),
        )
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[token] = (principal, float(claims["exp"]), resource)
        return principal

    def _alive(self, claims: dict[str, Any]) -> bool:
        if self.store.get("revoked", str(claims["jti"])) is not None:
            return False
        fam = self.store.get("families", str(claims.get("fam", "")))
        return fam is not None and not fam.get("revoked")

    def _prune(self, now: float) -> None:
        """Drop what has expired (at most once a minute): spent tokens, old families, old revocations."""
        if now - self._pruned < 60:
            return
        self._pruned = now
        drop: list[tuple[str, str, dict[str, Any] | None]] = []
        for kind in ("refresh", "families", "revoked"):
            drop += [(kind, k, None) for k, v in self.store.items(kind) if float(v.get("exp", 0)) <= now]
        if drop:
            self.store.update(drop)
