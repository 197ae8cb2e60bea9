"""``OAuthIssuer``: tokens from an outside issuer, checked against its discovered JWKS.

A real issuer runs on 127.0.0.1 (:mod:`tests.auth.issuerkit`) and mints tokens. Through a live
server: a valid token -> 200 and its subject in the call record; expired, not yet valid, wrong
audience, wrong issuer, bad signature, ``alg: none``, HS256 keyed with the public key, HS256
keyed with an ``oct`` key the JWKS publishes -> 401. On the verifier itself: discovery (OIDC and
RFC 8414 forms), a rotated key picked up with one fetch, forged ``kid`` values that cannot make
it hammer the issuer, https only, no redirects, bounded size and time, the Auth0 preset.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.auth.issuer import IssuerError, OAuthIssuer
from nbmcp.auth.tokens import InvalidToken, key_fits, load_jwk, principal_from_claims, scopes_of
from nbmcp.principal import Principal
from tests.auth.issuerkit import AUDIENCE, CLIENT, SUB, Key, TestIssuer, b64, lenient
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(120)

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[TestIssuer]:
    with TestIssuer() as kit:
        yield kit


def verify(verifier: OAuthIssuer, token: str) -> Principal | None:
    return asyncio.run(verifier.verify(token, "http://127.0.0.1/mcp"))


def build(issuer: TestIssuer, **options: Any) -> MCPServer:
    server = MCPServer("issued", auth=OAuthIssuer(issuer.url, AUDIENCE, **options))

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return lenient(server)


def call(url: str, token: str | None) -> httpx.Response:
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, msg_id=5)
    return httpx.post(url, json=body, headers=headers, timeout=10)


def bad_tokens(kit: TestIssuer) -> dict[str, str]:
    now = int(time.time())
    key = kit.keys[0]
    impostor = Key.make("RS256", kid=key.kid)  # same kid, another key
    return {
        "expired": kit.mint(exp=now - 3600, iat=now - 7200),
        "not yet valid": kit.mint(nbf=now + 3600),
        "wrong audience": kit.mint(aud="https://another.api"),
        "wrong issuer": kit.mint(iss="http://127.0.0.1:1/elsewhere"),
        "no audience": kit.mint(aud=None),
        "no expiry": kit.mint(exp=None),
        "bad signature": kit.mint(key=impostor),
        "tampered": _tamper(kit.mint()),
        "alg none": kit.forge("none", b""),
        "HS256 with the public key": kit.forge("HS256", key.public_pem()),
        "HS256 with the oct key": kit.forge("HS256", b"published-secret", kid="oct-1"),
        "unknown kid": kit.mint(key=Key.make("RS256")),
        "garbage": "not-a-token",
        "three dots": "a.b.c",
        "empty parts": "..",
    }


def _tamper(token: str) -> str:
    head, _, rest = token.partition(".")
    _, _, signature = rest.partition(".")
    claims = b64(b'{"iss":"x","aud":"y","sub":"admin","exp":9999999999}')
    return f"{head}.{claims}.{signature}"


def test_valid_token_200_and_every_forgery_401(issuer: TestIssuer, serve: Any) -> None:
    issuer.extra_jwks = [{"kty": "oct", "kid": "oct-1", "k": b64(b"published-secret"), "alg": "HS256"}]
    server = build(issuer)
    url = serve(server)
    good = call(url, issuer.mint(scope="read write"))
    assert good.status_code == 200, good.text
    result = oracle.validate_answer("tools/call", good.json(), "2025-11-25", request_id=5, expect="result")
    assert result["structuredContent"] == {"result": 5}
    assert server.monitor.journal[-1].principal == SUB
    for why, token in bad_tokens(issuer).items():
        refused = call(url, token)
        assert refused.status_code == 401, (why, refused.text)
        assert refused.headers["www-authenticate"].startswith("Bearer "), why
        assert 'error="invalid_token"' in refused.headers["www-authenticate"], why
        assert token not in refused.text
        oracle.validate_answer("tools/call", refused.json(), "2025-11-25", expect="error")
    assert len(server.monitor.journal) == 1  # no refused token reached a tool


def test_principal_from_a_token(issuer: TestIssuer) -> None:
    verifier = OAuthIssuer(issuer.url, AUDIENCE)
    principal = verify(verifier, issuer.mint(scope="read write", tenant="acme"))
    assert principal is not None
    assert (principal.name, principal.kind, principal.client_id) == (SUB, "token", CLIENT)
    assert principal.scopes == {"read", "write"} and not principal.owner
    assert principal.claims["tenant"] == "acme" and principal.claims["aud"] == AUDIENCE
    with pytest.raises(TypeError):
        principal.claims["sub"] = "someone else"  # type: ignore[index]
    # a client-credentials token has no user: the client is the principal
    machine = verify(verifier, issuer.mint(sub=None, azp=None, client_id="ci-bot"))
    assert machine is not None and machine.name == "ci-bot" and machine.client_id == "ci-bot"
    assert verify(verifier, issuer.mint(sub=None, azp=None)) is None


def test_scopes_are_read_from_every_usual_claim() -> None:
    assert scopes_of({"scope": "a  b"}) == {"a", "b"}
    assert scopes_of({"scp": ["c", "d"]}) == {"c", "d"}
    assert scopes_of({"scp": "e"}) == {"e"}
    assert scopes_of({"permissions": ["read:x"], "scope": "openid"}) == {"read:x", "openid"}
    assert scopes_of({"scope": 7, "scp": [1, None]}) == frozenset()
    principal = principal_from_claims({"sub": "s", "client_id": "c", "azp": "other"})
    assert principal.client_id == "c"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_each_asymmetric_algorithm(alg: str) -> None:
    with TestIssuer(alg=alg) as kit:
        verifier = OAuthIssuer(kit.url, AUDIENCE)
        principal = verify(verifier, kit.mint())
        assert principal is not None and principal.name == SUB
        no_kid = kit.forge_without_kid()
        assert verify(verifier, no_kid) is not None  # one key: no kid needed
        restricted = OAuthIssuer(kit.url, AUDIENCE, algorithms=["RS256"] if alg != "RS256" else ["ES256"])
        assert verify(restricted, kit.mint()) is None


def test_rfc8414_discovery_for_an_issuer_with_a_path() -> None:
    with TestIssuer(path="/tenant", discovery="oauth-authorization-server") as kit:
        verifier = OAuthIssuer(kit.url, AUDIENCE)
        assert verifier.metadata_urls() == [
            f"{kit.origin}/tenant/.well-known/openid-configuration",
            f"{kit.origin}/.well-known/oauth-authorization-server/tenant",
        ]
        assert verify(verifier, kit.mint()) is not None
        assert verifier.metadata is not None and verifier.metadata["jwks_uri"] == f"{kit.url}/jwks"
        assert kit.hits["/.well-known/oauth-authorization-server/tenant"] == 1
        assert kit.hits["/tenant/.well-known/openid-configuration"] == 1  # tried first, 404
        oidc_only = OAuthIssuer.oidc(kit.url, AUDIENCE)
        assert oidc_only.metadata_urls() == [f"{kit.origin}/tenant/.well-known/openid-configuration"]
        assert verify(oidc_only, kit.mint()) is None  # this issuer has no OIDC document


def test_keys_are_cached_and_a_rotated_key_is_picked_up() -> None:
    with TestIssuer() as kit:
        verifier = OAuthIssuer(kit.url, AUDIENCE)
        for _ in range(5):
            assert verify(verifier, kit.mint(jti=secrets.token_hex(4))) is not None
        assert kit.jwks_fetches == 1
        assert kit.hits[kit.metadata_path()] == 1
        old = kit.keys[0]
        new = kit.rotate("ES256")
        assert new.kid != old.kid
        principal = verify(verifier, kit.mint())
        assert principal is not None and principal.name == SUB
        assert kit.jwks_fetches == 2  # the unknown kid made it fetch the keys once more
        assert kit.hits[kit.metadata_path()] == 1  # the metadata stays cached


def test_unknown_kids_cannot_make_it_hammer_the_issuer() -> None:
    with TestIssuer() as kit:
        verifier = OAuthIssuer(kit.url, AUDIENCE, refetch_interval=30.0)
        clock = [1000.0]
        verifier._clock = lambda: clock[0]
        assert verify(verifier, kit.mint()) is not None
        assert kit.jwks_fetches == 1
        for _ in range(20):
            assert verify(verifier, kit.mint(key=Key.make("RS256"))) is None
        assert kit.jwks_fetches == 2  # one refetch for the first unknown kid, none for the rest
        clock[0] += 31.0
        assert verify(verifier, kit.mint(key=Key.make("RS256"))) is None
        assert kit.jwks_fetches == 3  # the interval passed: one more
        assert verify(verifier, kit.mint()) is not None  # known keys never waited


def test_an_issuer_that_is_down_refuses_tokens_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    kit = TestIssuer()
    with kit:
        token = kit.mint()
        url = kit.url
    verifier = OAuthIssuer(url, AUDIENCE)
    with caplog.at_level(logging.WARNING, logger="nbmcp"):
        assert verify(verifier, token) is None
    assert any("cannot check tokens" in r.getMessage() for r in caplog.records)
    assert all(token not in r.getMessage() for r in caplog.records)
    with pytest.raises(IssuerError, match="no usable metadata"):
        verifier.check()


def test_https_only_and_asymmetric_only() -> None:
    for url in ("http://issuer.example", "ftp://127.0.0.1", "https://", "issuer.example"):
        with pytest.raises(IssuerError, match="https://"):
            OAuthIssuer(url, AUDIENCE)
    assert OAuthIssuer("http://localhost:9/", AUDIENCE).issuer == "http://localhost:9/"
    for algorithms in (["HS256"], ["none"], ["RS256", "HS512"], []):
        with pytest.raises(IssuerError, match="asymmetric"):
            OAuthIssuer("https://issuer.example", AUDIENCE, algorithms=algorithms)
    with pytest.raises(IssuerError, match="audience"):
        OAuthIssuer("https://issuer.example", "")
    with pytest.raises(IssuerError, match="jwks_uri must be an https"):
        OAuthIssuer("https://issuer.example", AUDIENCE, jwks_uri="http://127.0.0.1/jwks")


def test_metadata_must_name_the_issuer_and_an_https_jwks() -> None:
    with TestIssuer() as kit:
        kit.metadata_issuer = "https://attacker.example"
        with pytest.raises(IssuerError, match=r"names the issuer 'https://attacker\.example'"):
            OAuthIssuer(kit.url, AUDIENCE).check()
        kit.metadata_issuer = None
        kit.jwks_uri = "http://keys.example/jwks"
        with pytest.raises(IssuerError, match="jwks_uri must be an https"):
            OAuthIssuer(kit.url, AUDIENCE).check()
        kit.jwks_uri = None
        OAuthIssuer(kit.url + "/", AUDIENCE).check()  # a trailing slash is the same issuer


def test_fetches_follow_no_redirect_and_are_bounded() -> None:
    with TestIssuer() as kit:
        kit.routes["/moved"] = (302, {"Location": f"{kit.url}/jwks"}, b"")
        with pytest.raises(IssuerError, match="redirect"):
            OAuthIssuer(kit.url, AUDIENCE, jwks_uri=f"{kit.url}/moved").check()
        kit.routes["/huge"] = (200, {}, b'{"keys": [' + b'{"kty": "RSA"},' * 40_000 + b"{}]}")
        with pytest.raises(IssuerError, match="larger than 65536 bytes"):
            OAuthIssuer(kit.url, AUDIENCE, jwks_uri=f"{kit.url}/huge", max_bytes=65536).check()
        kit.routes["/list"] = (200, {}, b"[1, 2]")
        with pytest.raises(IssuerError, match="not a JSON object"):
            OAuthIssuer(kit.url, AUDIENCE, jwks_uri=f"{kit.url}/list").check()
        kit.routes["/hang"] = lambda handler: kit.released.wait(60)  # never answers in time
        with pytest.raises(IssuerError, match="timed out"):
            OAuthIssuer(kit.url, AUDIENCE, jwks_uri=f"{kit.url}/hang", timeout=0.5).check()
        kit.extra_jwks = [{"kty": "oct", "kid": "oct-1", "k": b64(b"s")}]
        kit.keys = []
        with pytest.raises(IssuerError, match="no RSA, EC or OKP signing key"):
            OAuthIssuer(kit.url, AUDIENCE).check()


def test_auth0_preset() -> None:
    for domain in ("tenant.eu.auth0.com", "https://tenant.eu.auth0.com/", " tenant.eu.auth0.com/ "):
        verifier = OAuthIssuer.auth0(domain, "https://api.example", scopes=["read:notes"])
        assert verifier.issuer == "https://tenant.eu.auth0.com/"  # Auth0's iss ends with a slash
        assert verifier.audience == ["https://api.example"]
        assert verifier.required_scopes == {"read:notes"}
        assert verifier.metadata_urls()[0] == "https://tenant.eu.auth0.com/.well-known/openid-configuration"
        assert verifier.authorization_server("http://127.0.0.1:8000") == "https://tenant.eu.auth0.com/"
    with pytest.raises(IssuerError, match="domain"):
        OAuthIssuer.auth0("", "aud")
    assert "tenant" in repr(OAuthIssuer.auth0("tenant.eu.auth0.com", "a"))


def test_verified_tokens_are_remembered_until_they_expire(
    issuer: TestIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbmcp.auth.issuer as module

    checks: list[str] = []
    real = module.verify_jwt

    def counting(token: str, key: Any, **kwargs: Any) -> dict[str, Any]:
        checks.append(token)
        return real(token, key, **kwargs)

    monkeypatch.setattr(module, "verify_jwt", counting)
    verifier = OAuthIssuer(issuer.url, AUDIENCE, cache_size=2)
    now = [time.time()]
    verifier._now = lambda: now[0]
    token = issuer.mint(exp=int(now[0]) + 60)
    first = verify(verifier, token)
    assert first is not None and verify(verifier, token) is first  # the same object: from the cache
    assert len(checks) == 1
    now[0] += 120  # past its exp: no longer taken from the cache, checked again
    verify(verifier, token)
    assert len(checks) == 2
    for n in range(5):
        assert verify(verifier, issuer.mint(jti=str(n))) is not None
    assert len(verifier._verified) <= 2
    assert all(token not in repr(entry) for entry in verifier._verified)  # kept by digest only


def test_only_signing_keys_of_the_algorithms_own_type_fit() -> None:
    rsa_jwk = Key.make("RS256").jwk()
    ec_jwk = Key.make("ES256").jwk()
    oct_jwk = {"kty": "oct", "k": b64(b"secret"), "kid": "o"}
    assert key_fits(rsa_jwk, "RS256") and key_fits({**rsa_jwk, "alg": "PS256"}, "PS256")
    assert key_fits(ec_jwk, "ES256") and not key_fits({**ec_jwk, "crv": "P-384"}, "ES256")
    for alg in ("HS256", "HS512", "none", "RS256", "ES256"):
        assert not key_fits(oct_jwk, alg), alg  # never an HMAC secret from a JWKS
    assert not key_fits(rsa_jwk, "ES256") and not key_fits(ec_jwk, "RS256")
    assert not key_fits(rsa_jwk, "PS256")  # the JWK says RS256
    assert not key_fits({**rsa_jwk, "use": "enc"}, "RS256")
    assert not key_fits({**rsa_jwk, "key_ops": ["encrypt"]}, "RS256")
    with pytest.raises(InvalidToken):
        load_jwk(oct_jwk, "HS256")
    with pytest.raises(InvalidToken, match="malformed"):
        load_jwk({**rsa_jwk, "n": "!!"}, "RS256")


def test_required_scopes_are_scope_names() -> None:
    for scopes in (["a b"], ['a"b'], [""], ["a\\b"]):
        with pytest.raises(IssuerError, match="scope names"):
            OAuthIssuer("https://issuer.example", AUDIENCE, scopes=scopes)
