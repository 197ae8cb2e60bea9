"""Sealed ``requestState`` for protocol 2026-07-28 rounds (MRTR): what a retry may trust.

A tool that needs input ends its round with ``input_required``; the client retries the whole
request with the answers so far in an opaque ``requestState``. The specification says to treat it
as attacker-controlled and reject state that fails verification. nbmcp keeps nothing between
rounds (any worker may take the retry), so the token must prove itself.

Why HMAC-SHA256: the answers are the client's own and need no secrecy, only integrity; a MAC
under a server key is the smallest unforgeable thing and costs microseconds. Token:
``"s1." + b64url(payload) + "." + b64url(mac)``, the MAC over the ASCII ``"s1." + b64url(payload)``;
the payload is decoded only once the MAC holds.

What is bound, so a token answers one request of one caller, briefly: ``iat``/``exp`` (expiry
after ``ttl``), ``m`` the method, ``t`` the tool or prompt name or resource URI, ``a`` a digest of
the arguments (key-sorted, so order is irrelevant), ``p`` a keyed hash of the principal (never in
the clear), ``n`` a random nonce (two seals always differ, as a new round must show), then the
``answers`` and the ``asked`` digests.

Why one error: every failure is the same -32602 "Invalid or expired requestState", so a prober
learns nothing of which check failed; the real reason goes to ``logger.debug`` only, never the
token (it holds the client's answers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import orjson

from nbmcp.errors import InvalidParams

__all__ = ["MAX_STATE_BYTES", "SealedState", "StateSigner"]

logger = logging.getLogger("nbmcp")

MAX_STATE_BYTES: Final = 64 * 1024
"""The longest token ``open`` reads (and ``seal`` makes): the answers ride in every retry."""

_PREFIX: Final = b"s1."
_FUTURE_SKEW: Final = 60.0
_MIN_KEY: Final = 32
_now = time.time  # the clock; a module global so tests can move it


@dataclass(slots=True)
class SealedState:
    """What a verified token carries: the answers so far and the digest of each question asked."""

    answers: dict[str, Any]
    asked: dict[str, str]


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _digest(arguments: Mapping[str, Any] | None) -> str:
    """The arguments' digest: sha256 of their key-sorted JSON, 16 bytes (TypeError if not JSON)."""
    body = orjson.dumps(dict(arguments) if arguments else {}, option=orjson.OPT_SORT_KEYS)
    return _b64(hashlib.sha256(body).digest()[:16]).decode()


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _reject(method: str, reason: str) -> NoReturn:
    logger.debug("requestState rejected (%s): %s", method, reason)
    raise InvalidParams("Invalid or expired requestState", {"reason": "invalid_request_state"})


class StateSigner:
    """Seals and opens ``requestState`` tokens under one server key.

    Args:
        key: The secret (``request_state_secret``), at least 32 bytes (a str counts its UTF-8
            bytes). ``None`` draws a random key for this process: state then holds only on the
            worker that made it and until it restarts. Many workers must share one key.
        ttl: Seconds a token stays valid after it is sealed.
    """

    __slots__ = ("_key", "ttl")

    def __init__(self, key: bytes | str | None = None, ttl: float = 600.0) -> None:
        if key is None:
            key = secrets.token_bytes(_MIN_KEY)
        elif isinstance(key, str):
            key = key.encode()
        elif not isinstance(key, bytes | bytearray):
            raise TypeError("request_state_secret must be str or bytes")
        if len(key) < _MIN_KEY:
            raise ValueError(f"request_state_secret must be at least {_MIN_KEY} bytes")
        if not ttl > 0:
            raise ValueError("request_state ttl must be a positive number of seconds")
        self._key = bytes(key)
        self.ttl = float(ttl)

    def _mac(self, signed: bytes) -> bytes:
        return _b64(hmac.new(self._key, signed, hashlib.sha256).digest())

    def _principal(self, principal_key: str | None) -> str:
        if principal_key is None:
            return "-"
        who = b"principal:" + principal_key.encode("utf-8", "surrogatepass")
        return _b64(hmac.new(self._key, who, hashlib.sha256).digest()[:16]).decode()

    def seal(
        self,
        *,
        method: str,
        target: str,
        arguments: Mapping[str, Any] | None,
        principal_key: str | None,
        answers: dict[str, Any],
        asked: dict[str, str],
    ) -> str:
        """A fresh token binding these answers to this request and caller until ``ttl`` passes.

        Raises ``InvalidParams`` when the answers make the token longer than ``MAX_STATE_BYTES``
        (``open`` would refuse it), and ``TypeError`` when arguments or answers are not JSON.
        """
        now = _now()
        claims = {
            "iat": now,
            "exp": now + self.ttl,
            "m": method,
            "t": target,
            "a": _digest(arguments),
            "p": self._principal(principal_key),
            "n": _b64(secrets.token_bytes(12)).decode(),
            "answers": answers,
            "asked": asked,
        }
        signed = _PREFIX + _b64(orjson.dumps(claims))
        token = signed + b"." + self._mac(signed)
        if len(token) > MAX_STATE_BYTES:
            raise InvalidParams(
                "The answers are too large to carry in requestState", {"reason": "request_state_too_large"}
            )
        return token.decode("ascii")

    def open(
        self,
        token: object,
        *,
        method: str,
        target: str,
        arguments: Mapping[str, Any] | None,
        principal_key: str | None,
    ) -> SealedState:
        """The state a token seals, once its MAC, expiry, request binding and principal all hold."""
        if not isinstance(token, str):
            _reject(method, f"not a string but {type(token).__name__}")
        if len(token) > MAX_STATE_BYTES or not token.isascii():
            _reject(method, f"longer than {MAX_STATE_BYTES} characters or not ASCII")
        signed, dot, mac = token.encode().rpartition(b".")
        if not dot or not signed.startswith(_PREFIX):
            _reject(method, "not an s1 token")
        if not hmac.compare_digest(mac, self._mac(signed)):
            _reject(method, "bad signature")
        body = signed[len(_PREFIX) :]
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        except ValueError:  # binascii.Error and orjson.JSONDecodeError are ValueErrors
            _reject(method, "undecodable payload")
        if not isinstance(claims, dict):
            _reject(method, "payload is not an object")
        now = _now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or iat > now + _FUTURE_SKEW:
            _reject(method, "issued in the future")
        if not isinstance(exp, int | float) or not now < exp:
            _reject(method, "expired")
        try:
            digest = _digest(arguments)
        except TypeError:
            _reject(method, "arguments are not JSON")
        if claims.get("m") != method or claims.get("t") != target or claims.get("a") != digest:
            _reject(method, "bound to another request")
        if claims.get("p") != self._principal(principal_key):  # both made here: no timing to hide
            _reject(method, "bound to another principal")
        answers, asked = claims.get("answers"), claims.get("asked")
        if (
            not isinstance(answers, dict)
            or not isinstance(asked, dict)
            or not all(map(_is_str, asked.values()))
        ):
            _reject(method, "answers or asked malformed")
        return SealedState(answers, asked)
