"""The built-in server's access tokens: JWTs signed with a key of this server's own.

Each server (each store) has its own ES256 key pair, made on first use and kept in the store,
so a token minted by one notebook's server never verifies on another's, and tokens survive a
restart at the same URL. Verification is deliberately narrow: only ES256, only this key
(``kid``), only ``typ: at+jwt`` (RFC 9068), and ``aud``, ``exp``, ``iat``, ``sub``, ``jti``
required. ``alg: none``, an HMAC token keyed with the public key, or a token from another
server are refused before any claim is read. PyJWT does the cryptography.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nbmcp.auth.store import OAuthStore

__all__ = ["ALGORITHM", "TOKEN_TYPE", "SigningKey"]

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"
_REQUIRED = ["aud", "exp", "iat", "iss", "sub", "jti"]


class SigningKey:
    """This server's key pair, loaded from (or first made into) ``store`` under ``meta/signing_key``."""

    def __init__(self, store: OAuthStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._private: ec.EllipticCurvePrivateKey | None = None
        self._public: ec.EllipticCurvePublicKey | None = None
        self.kid = ""

    def _load(self) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            if self._private is not None:
                return self._private
            record = self._store.get("meta", "signing_key")
            if record is None or record.get("alg") != ALGORITHM:
                key = ec.generate_private_key(ec.SECP256R1())
                pem = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                record = {
                    "alg": ALGORITHM,
                    "kid": secrets.token_urlsafe(12),
                    "pem": pem,
                    "created": time.time(),
                }
                self._store.put("meta", "signing_key", record)
            loaded = serialization.load_pem_private_key(str(record["pem"]).encode(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise TypeError("the stored signing key is not an EC key")
            self._private, self._public, self.kid = loaded, loaded.public_key(), str(record["kid"])
            return loaded

    def public_pem(self) -> bytes:
        """The public half, PEM-encoded (nothing secret: for whoever wants to check tokens offline)."""
        return (
            self._load()
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWT of ``claims``, signed with this server's key."""
        key = self._load()
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": TOKEN_TYPE})

    def verify(self, token: str, audience: str | None, *, check_expiry: bool = True) -> dict[str, Any] | None:
        """The claims of ``token`` if this key signed it for ``audience`` and it is current, else ``None``.

        ``audience=None`` skips the audience (revocation accepts a token for any of our resources);
        ``check_expiry=False`` accepts an expired one (revoking it is harmless).
        """
        self._load()
        try:
            header = jwt.get_unverified_header(token)
            if (
                header.get("alg") != ALGORITHM
                or header.get("kid") != self.kid
                or header.get("typ") != TOKEN_TYPE
            ):
                return None
            assert self._public is not None
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                audience=audience,
                options={
                    "require": _REQUIRED,
                    "verify_aud": audience is not None,
                    "verify_exp": check_expiry,
                    "verify_iat": check_expiry,
                    "verify_nbf": check_expiry,
                },
                leeway=5 if check_expiry else 0,
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        return claims
