"""JWT access tokens: check one against a key, and turn its claims into a principal.

Shared by the two token verifiers (an outside issuer's, :mod:`nbmcp.auth.issuer`, and the
built-in authorization server's). :func:`verify_jwt` is the whole check: the signature with
the one key given, for algorithms of an allow-list only (asymmetric ones by default; ``none``
never), then ``iss``, ``aud``, ``exp`` and ``nbf`` with a small leeway for clock skew.

PyJWT does the cryptography (with ``cryptography`` underneath); it is imported on first use,
so ``import nbmcp`` never pays for it. A token is never put in an error, a log or a repr: the
:class:`InvalidToken` message says what was wrong with it, not what it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from nbmcp.errors import NbmcpError
from nbmcp.principal import Principal

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "LEEWAY",
    "InvalidToken",
    "key_fits",
    "load_jwk",
    "principal_from_claims",
    "scopes_of",
    "token_header",
    "verify_jwt",
]

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""Signature algorithms accepted by default: public-key ones only (no HMAC, never ``none``)."""

LEEWAY = 30.0
"""Seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``."""

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVES = {"ES256": ("P-256",), "ES384": ("P-384",), "ES512": ("P-521",), "EdDSA": ("Ed25519", "Ed448")}


class InvalidToken(NbmcpError):
    """A bearer token that is not valid here; the message says why, never what the token was."""


def token_header(token: str) -> dict[str, Any]:
    """The token's (unverified) JOSE header: which ``alg`` and ``kid`` it claims.

    Raises:
        InvalidToken: not a compact JWS.
    """
    import jwt

    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except Exception:  # PyJWT's DecodeError, or anything a malformed token trips
        raise InvalidToken("not a JWT") from None
    if not isinstance(header.get("alg"), str):
        raise InvalidToken("the token names no algorithm")
    return header


def key_fits(jwk: Mapping[str, Any], algorithm: str) -> bool:
    """Whether a JWK (from a JWKS) may verify a signature made with ``algorithm``.

    Only public keys of the algorithm's own type and curve, meant for signatures: an
    ``oct`` (HMAC) key is never one, so a token signed with HS256 cannot be checked against a
    secret taken from a JWKS.
    """
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        return False
    if jwk.get("kty") != _KEY_TYPES.get(algorithm[:2]):
        return False
    if "alg" in jwk and jwk["alg"] != algorithm:
        return False
    if jwk.get("use", "sig") != "sig":
        return False
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and "verify" not in ops:
        return False
    curves = _CURVES.get(algorithm)
    return curves is None or jwk.get("crv") in curves


def load_jwk(jwk: Mapping[str, Any], algorithm: str) -> Any:
    """The public key object of a JWK that :func:`key_fits` ``algorithm``.

    Raises:
        InvalidToken: the JWK does not fit, or is malformed.
    """
    if not key_fits(jwk, algorithm):
        raise InvalidToken(f"no {algorithm} key")
    import jwt

    try:
        return jwt.PyJWK(dict(jwk), algorithm).key
    except Exception:
        raise InvalidToken(f"a malformed {algorithm} key") from None


def verify_jwt(
    token: str,
    key: Any,
    *,
    issuer: str | Sequence[str],
    audience: str | Iterable[str],
    algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS,
    leeway: float = LEEWAY,
) -> dict[str, Any]:
    """The claims of ``token`` once its signature, ``iss``, ``aud``, ``exp`` and ``nbf`` hold.

    Args:
        token: The compact JWS from ``Authorization: Bearer``.
        key: The public key object (or PEM) to check the signature with.
        issuer: The ``iss`` value (or values) accepted, compared exactly.
        audience: The ``aud`` value (or values) accepted: one of them must be in the token.
        algorithms: The algorithms accepted; ``none`` is refused whatever is passed.
        leeway: Seconds of clock skew allowed.

    Raises:
        InvalidToken: with a short reason (``expired``, ``wrong audience``...).
    """
    import jwt

    allowed = [a for a in algorithms if a.lower() != "none"]
    if not allowed:
        raise InvalidToken("no algorithm allowed")
    audiences = [audience] if isinstance(audience, str) else list(audience)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=allowed,
            issuer=issuer,
            audience=audiences,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("expired") from None
    except jwt.ImmatureSignatureError:
        raise InvalidToken("not valid yet") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("wrong audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("wrong issuer") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"no {exc.claim!r} claim") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidToken("algorithm not allowed") from None
    except Exception:  # a malformed token, or a key of the wrong kind for its algorithm
        raise InvalidToken("malformed") from None
    return claims


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The token's scopes: ``scope`` (RFC 8693/9068, space-separated), ``scp``, Auth0's ``permissions``."""
    found: set[str] = set()
    for name in ("scope", "scp", "permissions"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str) and v)
    return frozenset(found)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The caller a verified token stands for: its ``sub`` (else its client), client, scopes, claims.

    Raises:
        InvalidToken: the token names neither a subject nor a client.
    """
    client = claims.get("client_id", claims.get("azp"))
    client_id = client if isinstance(client, str) and client else None
    sub = claims.get("sub")
    name = sub if isinstance(sub, str) and sub else client_id
    if name is None:
        raise InvalidToken("the token names no subject")
    return Principal(
        name,
        kind="token",
        client_id=client_id,
        scopes=scopes_of(claims),
        claims=MappingProxyType(dict(claims)),
    )
