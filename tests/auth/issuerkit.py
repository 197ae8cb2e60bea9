"""A tiny real OAuth issuer on 127.0.0.1 for tests: its metadata, its JWKS, and tokens it mints.

It is an ``http.server`` in a thread (nothing mocked: nbmcp fetches its documents over HTTP
as it would Auth0's). Keys are generated with ``cryptography``; tokens are signed with PyJWT,
or forged by hand where PyJWT would refuse (``alg: none``, HS256 keyed with the public key).
Every request is counted by path, so tests can tell how often nbmcp fetched the keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

AUDIENCE = "https://api.nbmcp.test"
SUB = "user-7Qm"
CLIENT = "client-Zr4"


def lenient(server: Any) -> Any:
    """Lift the failed-authentication limit: these tests send many wrong credentials on purpose."""
    server.config.failed_auth_limit = "1000000/1min"
    server.config.failed_auth_limit_total = "1000000/1min"
    return server


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Key:
    kid: str
    alg: str
    private: Any

    @classmethod
    def make(cls, alg: str = "RS256", kid: str | None = None) -> Key:
        if alg.startswith(("RS", "PS")):
            private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        return cls(kid or f"kid-{secrets.token_hex(4)}", alg, private)

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data: dict[str, Any] = dict(RSAAlgorithm.to_jwk(public, as_dict=True))  # type: ignore[arg-type]
        elif isinstance(public, ec.EllipticCurvePublicKey):
            data = dict(ECAlgorithm.to_jwk(public, as_dict=True))  # type: ignore[arg-type]
        else:
            data = dict(OKPAlgorithm.to_jwk(public, as_dict=True))  # type: ignore[arg-type]
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


class TestIssuer:
    """``with TestIssuer() as issuer: token = issuer.mint(scope="read")``.

    Args:
        path: The issuer's path (``"/tenant"`` makes ``http://127.0.0.1:P/tenant``).
        discovery: Which metadata document it serves: ``"openid-configuration"`` (OIDC, at
            ``ISSUER/.well-known/openid-configuration``) or ``"oauth-authorization-server"``
            (RFC 8414, at ``/.well-known/oauth-authorization-server/PATH``).
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(
        self, *, path: str = "", discovery: str = "openid-configuration", alg: str = "RS256"
    ) -> None:
        self.path = path
        self.discovery = discovery
        self.keys: list[Key] = [Key.make(alg)]
        self.extra_jwks: list[dict[str, Any]] = []
        """More JWKs published as they are (an ``oct`` key, say)."""
        self.hits: Counter[str] = Counter()
        self.metadata_issuer: str | None = None
        """Overrides the ``issuer`` the metadata names (to test a mismatch)."""
        self.jwks_uri: str | None = None
        """Overrides the ``jwks_uri`` the metadata names."""
        self.routes: dict[str, Any] = {}
        """Extra answers by path: ``(status, headers, body)`` or a callable ``handler -> None``."""
        self.released = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-issuer", daemon=True)

    # -- serving ---------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return self.origin + self.path

    def metadata_path(self) -> str:
        if self.discovery == "openid-configuration":
            return f"{self.path}/.well-known/openid-configuration"
        return f"/.well-known/oauth-authorization-server{self.path}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys] + list(self.extra_jwks)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        kit = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                kit.hits[path] += 1
                route = kit.routes.get(path)
                if callable(route):
                    route(self)
                elif route is not None:
                    status, headers, body = route
                    self._send(status, body, headers)
                elif path == kit.metadata_path():
                    document = {
                        "issuer": kit.metadata_issuer or kit.url,
                        "jwks_uri": kit.jwks_uri or f"{kit.url}/jwks",
                        "authorization_endpoint": f"{kit.url}/authorize",
                        "token_endpoint": f"{kit.url}/token",
                    }
                    self._send(200, json.dumps(document).encode())
                elif path == f"{kit.path}/jwks":
                    self._send(200, json.dumps(kit.jwks()).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

        return Handler

    def __enter__(self) -> TestIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)

    @property
    def jwks_fetches(self) -> int:
        return self.hits[f"{self.path}/jwks"]

    # -- keys and tokens -------------------------------------------------------------------

    def rotate(self, alg: str = "RS256") -> Key:
        """Publish a new key (new ``kid``) instead of the old ones; new tokens are signed with it."""
        key = Key.make(alg)
        self.keys = [key]
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": SUB,
            "azp": CLIENT,
            "iat": now,
            "exp": now + 600,
            "scope": "read",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, *, key: Key | None = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token signed with ``key`` (default: the current one); ``claim=None`` drops a claim."""
        key = key or self.keys[0]
        extra = {"kid": key.kid, **(headers or {})}
        return jwt.encode(self.claims(**claims), key.private, algorithm=key.alg, headers=extra)

    def forge_without_kid(self) -> str:
        """A properly signed token whose header names no ``kid``."""
        key = self.keys[0]
        token = jwt.encode(self.claims(), key.private, algorithm=key.alg)
        assert "kid" not in jwt.get_unverified_header(token)
        return token

    def forge(self, alg: str, secret: bytes, *, kid: str | None = None, **claims: Any) -> str:
        """A token PyJWT would not make: ``alg: none`` (``secret`` unused), or HMAC keyed with ``secret``."""
        header: dict[str, Any] = {"alg": alg, "typ": "JWT", "kid": kid or self.keys[0].kid}
        signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(self.claims(**claims)).encode())
        if alg == "none":
            return signing + "."
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384}[alg]
        return signing + "." + b64(hmac.new(secret, signing.encode(), digest).digest())
