"""The built-in authorization server's endpoints over real HTTP: what they accept and what they refuse.

Every refusal is checked for what matters: no code handed out, no redirect to a URI the client
did not register, a token that stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from nbmcp import MCPServer
from nbmcp.http.chain import GuardRequest, Refusal
from tests.oauth.consentkit import (
    REDIRECT,
    approve_form,
    authorize_url,
    base_of,
    call_tool,
    client,
    fill_consent,
    full_grant,
    oauth_server,
    pkce,
    register,
)

pytestmark = pytest.mark.timeout(60)


class Ears:
    """A guard layer that lets everything through and hears every refusal (as the failed-auth limit does)."""

    def __init__(self) -> None:
        self.heard: list[Refusal] = []

    async def check(self, request: GuardRequest) -> None:
        return None

    def refused(self, request: GuardRequest, refusal: Refusal) -> None:
        self.heard.append(refusal)


@pytest.fixture
def server() -> Iterator[MCPServer]:
    server = oauth_server(api_keys={"cursor": "cursor-key-1234567890"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def base(server: MCPServer) -> str:
    return base_of(str(server.url))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with client() as c:
        yield c


def token_form(grant_client: str, code: str, verifier: str, **extra: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": grant_client,
        "code_verifier": verifier,
    }
    form.update(extra)
    return form


# -- metadata --------------------------------------------------------------------------------


def test_metadata_lists_every_endpoint_at_the_root(http: httpx.Client, base: str) -> None:
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        doc = http.get(base + path).json()
        assert doc["issuer"] == base
        for name, where in [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("registration_endpoint", "/register"),
            ("revocation_endpoint", "/revoke"),
        ]:
            assert doc[name] == base + where
        assert doc["authorization_response_iss_parameter_supported"] is True
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert doc["response_types_supported"] == ["code"]
        assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    prm = http.get(base + "/.well-known/oauth-protected-resource/mcp").json()
    assert prm["authorization_servers"] == [base]


# -- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/abc123",
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
        "http://127.0.0.1:33418/callback",
        "http://localhost/callback",
        "http://[::1]:8080/cb",
    ],
)
def test_registration_takes_hosted_and_loopback_callbacks(http: httpx.Client, base: str, uri: str) -> None:
    body = register(http, base, uri)
    assert body["redirect_uris"] == [uri]
    assert body["token_endpoint_auth_method"] == "none" and "client_secret" not in body


@pytest.mark.parametrize(
    "uris",
    [
        ["http://evil.example/cb"],
        ["javascript:alert(1)"],
        ["cursor://anysphere/cb"],
        ["https://a.example/cb#frag"],
        ["https://user:pw@a.example/cb"],
        [],
        "https://a.example/cb",
        [42],
    ],
)
def test_registration_refuses_unsafe_redirect_uris(http: httpx.Client, base: str, uris: Any) -> None:
    answer = http.post(f"{base}/register", json={"redirect_uris": uris})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


def test_registration_refuses_bad_bodies(http: httpx.Client, base: str) -> None:
    assert http.post(f"{base}/register", content=b"{not json").status_code == 400
    assert http.post(f"{base}/register", json=["a"]).status_code == 400
    assert http.get(f"{base}/register").status_code == 405


def test_confidential_client_gets_a_secret_and_must_send_it(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    ears = Ears()
    server.guards.append(ears)
    body = register(http, base, token_endpoint_auth_method="client_secret_post")
    secret = body["client_secret"]
    verifier, challenge = pkce()
    consent = fill_consent(http, authorize_url(base, body["client_id"], challenge), str(server.access_key))
    form = token_form(body["client_id"], consent.params["code"], verifier)
    refused = http.post(f"{base}/token", data=form)  # no secret
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    wrong = http.post(f"{base}/token", data={**form, "client_secret": "nope"})
    assert wrong.status_code == 401
    assert [r.status for r in ears.heard] == [401, 401]  # counted as failed authentication
    good = http.post(f"{base}/token", data={**form, "client_secret": secret})
    assert good.status_code == 200, good.text


# -- the authorization request ---------------------------------------------------------------


def test_unknown_client_or_unregistered_redirect_gets_a_page_never_a_redirect(
    http: httpx.Client, base: str
) -> None:
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    cases = [
        authorize_url(base, "nobody", challenge),
        authorize_url(base, client_id, challenge, redirect_uri="https://evil.example/callback"),
        authorize_url(base, client_id, challenge, redirect_uri="http://127.0.0.1:47123/other"),
        authorize_url(base, client_id, challenge, redirect_uri="http://localhost:47123/callback"),
    ]
    for url in cases:
        answer = http.get(url)
        assert answer.status_code == 400, url
        assert "location" not in answer.headers
        assert "text/html" in answer.headers["content-type"]
        assert not approve_form_present(answer.text)


def approve_form_present(html: str) -> bool:
    return 'type="password"' in html


def test_loopback_redirect_may_change_port(http: httpx.Client, base: str, server: MCPServer) -> None:
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge, redirect_uri="http://127.0.0.1:50999/callback")
    consent = fill_consent(http, url, str(server.access_key))
    assert consent.status == 303
    assert consent.location is not None and consent.location.startswith("http://127.0.0.1:50999/callback?")


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({}, "PKCE is required"),  # no PKCE at all
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "S256"),
        ({"code_challenge": "a" * 43}, "S256"),  # method missing means plain
    ],
)
def test_pkce_is_required_and_only_s256(
    http: httpx.Client, base: str, extra: dict[str, str], why: str
) -> None:
    client_id = register(http, base)["client_id"]
    answer = http.get(authorize_url(base, client_id, None, **extra))
    assert answer.status_code == 303
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT)
    assert location.params["error"] == "invalid_request" and why in location.params["error_description"]
    assert location.params["state"] == "st-1" and location.params["iss"] == base
    assert "code" not in location.params


def test_resource_outside_this_server_is_refused(http: httpx.Client, base: str) -> None:
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    answer = http.get(authorize_url(base, client_id, challenge, resource="https://other.example/mcp"))
    location = httpx.URL(answer.headers["location"])
    assert location.params["error"] == "invalid_target" and "code" not in location.params


# -- the consent page ------------------------------------------------------------------------


def test_consent_page_shows_who_where_and_what_and_cannot_be_framed(http: httpx.Client, base: str) -> None:
    client_id = register(http, base, "https://claude.ai/api/mcp/auth_callback", client_name="<b>Claude</b>")[
        "client_id"
    ]
    _, challenge = pkce()
    url = authorize_url(
        base, client_id, challenge, redirect_uri="https://claude.ai/api/mcp/auth_callback", scope="read write"
    )
    page = http.get(url)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert "calls itself" in text and "&lt;b&gt;Claude&lt;/b&gt;" in text and "<b>Claude</b>" not in text
    assert '<p class="host">claude.ai</p>' in text
    assert "<code>read</code>" in text and "<code>write</code>" in text
    form = approve_form(text)
    assert set(form.fields) == {"request", "csrf_token"} and form.fields["csrf_token"]


def test_post_without_its_csrf_token_is_refused(http: httpx.Client, base: str, server: MCPServer) -> None:
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    form = approve_form(http.get(authorize_url(base, client_id, challenge)).text)
    key = str(server.access_key)
    for fields in (
        {"request": form.fields["request"], "key": key},
        {"request": form.fields["request"], "csrf_token": "forged", "key": key},
    ):
        answer = http.post(f"{base}/authorize", data=fields)
        assert answer.status_code == 403 and "location" not in answer.headers
    # The request itself is still good for the real page.
    real = http.post(f"{base}/authorize", data={**form.fields, "key": key})
    assert real.status_code == 303 and "code=" in real.headers["location"]


def test_wrong_key_shows_the_form_again_and_counts_as_failed_authentication(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    ears = Ears()
    server.guards.append(ears)
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge)
    for wrong in ("wrong-key", "", "cursor-key-1234567890"):  # a labelled key only calls tools
        consent = fill_consent(http, url, wrong)
        assert consent.status == 403 and consent.location is None
        assert "not the owner key" in consent.page
        approve_form(consent.page)  # the form is there again
    assert [(r.status, r.kind) for r in ears.heard] == [(401, "unauthorized")] * 3
    assert fill_consent(http, url, str(server.access_key)).status == 303


def test_wrong_keys_on_the_consent_page_hit_the_failed_auth_limit(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    server.config.failed_auth_limit = "3/1min"
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge)
    page = http.get(url).text
    form = approve_form(page)
    for _ in range(3):
        assert http.post(f"{base}/authorize", data={**form.fields, "key": "guess"}).status_code == 403
    blocked = http.post(f"{base}/authorize", data={**form.fields, "key": str(server.access_key)})
    assert (
        blocked.status_code == 429 and "retry-after" in blocked.headers and "location" not in blocked.headers
    )


def test_deny_sends_access_denied(http: httpx.Client, base: str) -> None:
    client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    page = http.get(authorize_url(base, client_id, challenge)).text
    form = approve_form(page)
    answer = http.post(f"{base}/authorize", data={**form.fields, "action": "deny"})
    location = httpx.URL(answer.headers["location"])
    assert location.params["error"] == "access_denied" and "code" not in location.params


def test_owner_labelled_key_approves(base: str, http: httpx.Client) -> None:
    server = oauth_server("labelled-owner", api_keys={"owner": "the-owner-key-0123456789"})
    try:
        server.start()
        other = base_of(str(server.url))
        assert server.access_key == "the-owner-key-0123456789"
        assert server.oauth.generated_key is None
        client_id = register(http, other)["client_id"]
        _, challenge = pkce()
        assert (
            fill_consent(http, authorize_url(other, client_id, challenge), "the-owner-key-0123456789").status
            == 303
        )
    finally:
        server.stop()


# -- codes -----------------------------------------------------------------------------------


def test_code_is_single_use_and_a_reuse_revokes_what_it_gave(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    grant = full_grant(http, server, base)
    access = grant.tokens["access_token"]
    assert call_tool(http, base, access).status_code == 200
    again = http.post(f"{base}/token", data=token_form(grant.client_id, grant.code, grant.verifier))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert call_tool(http, base, access).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": grant.tokens["refresh_token"]}
    assert http.post(f"{base}/token", data={**refresh, "client_id": grant.client_id}).status_code == 400


def test_code_is_bound_to_verifier_client_and_redirect(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    client_id = register(http, base)["client_id"]
    other_client = register(http, base)["client_id"]
    verifier, challenge = pkce()
    consent = fill_consent(http, authorize_url(base, client_id, challenge), str(server.access_key))
    code = consent.params["code"]
    assert consent.params["state"] == "st-1" and consent.params["iss"] == base
    wrong_verifier, _ = pkce()
    for form in (
        token_form(client_id, code, wrong_verifier),
        token_form(client_id, code, ""),
        token_form(other_client, code, verifier),
        token_form(client_id, code, verifier, redirect_uri="http://127.0.0.1:47123/elsewhere"),
        token_form(client_id, code, verifier, resource="http://127.0.0.1:1/mcp"),
    ):
        answer = http.post(f"{base}/token", data=form)
        assert answer.status_code in (400, 401) and "access_token" not in answer.json()
    good = http.post(f"{base}/token", data=token_form(client_id, code, verifier))
    assert good.status_code == 200 and good.headers["cache-control"] == "no-store"


def test_token_endpoint_refuses_bad_requests_without_5xx(http: httpx.Client, base: str) -> None:
    for body in (
        b"",
        b"grant_type=password",
        b"grant_type=authorization_code&code=x&client_id=nobody",
        b"\xff\xfe",
    ):
        answer = http.post(
            f"{base}/token", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert 400 <= answer.status_code < 500
    dup = http.post(f"{base}/token", content=b"grant_type=a&grant_type=b")
    assert dup.status_code == 400


# -- access tokens ---------------------------------------------------------------------------


def _claims(server: MCPServer, base: str, grant: Any, **changes: Any) -> dict[str, Any]:
    claims = jwt.decode(grant.tokens["access_token"], options={"verify_signature": False})
    claims.update(changes)
    return claims


def _hmac_token(claims: dict[str, Any], header: dict[str, Any], secret: bytes) -> str:
    """An HS256 token keyed with ``secret`` (PyJWT refuses to make one keyed with a public key)."""

    def part(data: dict[str, Any]) -> str:
        return jwt.utils.base64url_encode(json.dumps(data).encode()).decode()

    signing_input = f"{part({**header, 'alg': 'HS256'})}.{part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{jwt.utils.base64url_encode(mac).decode()}"


def test_resource_goes_into_the_audience(http: httpx.Client, base: str, server: MCPServer) -> None:
    grant = full_grant(http, server, base, resource=f"{base}/mcp")
    claims = jwt.decode(grant.tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == f"{base}/mcp" and claims["iss"] == base and claims["client_id"] == grant.client_id
    assert grant.tokens["expires_in"] <= 3600


@pytest.mark.parametrize("spelt", ["", "/", "/mcp/"])
def test_the_servers_own_url_however_spelt_means_its_mcp_url(
    http: httpx.Client, base: str, server: MCPServer, spelt: str
) -> None:
    grant = full_grant(http, server, base, resource=base + spelt)
    claims = jwt.decode(grant.tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == f"{base}/mcp"
    assert call_tool(http, base, grant.tokens["access_token"]).status_code == 200


def test_expired_forged_wrong_audience_and_unsigned_tokens_are_refused(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    grant = full_grant(http, server, base)
    key = server.oauth.authority(base).grants.key
    now = int(time.time())
    assert call_tool(http, base, key.sign(_claims(server, base, grant))).status_code == 200  # the control
    expired = key.sign(_claims(server, base, grant, iat=now - 7200, exp=now - 3600))
    wrong_aud = key.sign(_claims(server, base, grant, aud="http://127.0.0.1:1/mcp"))
    stranger = ec.generate_private_key(ec.SECP256R1())
    header = jwt.get_unverified_header(grant.tokens["access_token"])
    forged = jwt.encode(_claims(server, base, grant), stranger, algorithm="ES256", headers=header)
    nothing: Any = None  # alg none signs with no key
    bare = {k: v for k, v in header.items() if k != "alg"}  # our kid and typ: only the alg differs
    unsigned = jwt.encode(_claims(server, base, grant), nothing, algorithm="none", headers=bare)
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    hs256 = _hmac_token(_claims(server, base, grant), header, key.public_pem())
    head, _body, signature = grant.tokens["access_token"].split(".")
    tampered = ".".join([head, jwt.utils.base64url_encode(b'{"sub":"x"}').decode(), signature])
    for token in (expired, wrong_aud, forged, unsigned, hs256, tampered, "garbage", "a.b.c", "x" * 5000):
        answer = call_tool(http, base, token)
        assert answer.status_code == 401, token
        assert "invalid_token" in answer.headers["www-authenticate"]


def test_token_of_another_server_does_not_work_here(http: httpx.Client, base: str, server: MCPServer) -> None:
    other = oauth_server("other-notebook")
    try:
        other.start()
        other_base = base_of(str(other.url))
        grant = full_grant(http, other, other_base)
        assert call_tool(http, other_base, grant.tokens["access_token"]).status_code == 200
        assert call_tool(http, base, grant.tokens["access_token"]).status_code == 401
        # Even with this server's audience, the other server's key signed it.
        forged = other.oauth.authority(other_base).grants.key.sign(
            {**_claims(other, other_base, grant), "aud": f"{base}/mcp", "iss": base}
        )
        assert call_tool(http, base, forged).status_code == 401
    finally:
        other.stop()


def test_api_key_and_tokens_work_side_by_side(http: httpx.Client, base: str, server: MCPServer) -> None:
    grant = full_grant(http, server, base)
    assert call_tool(http, base, grant.tokens["access_token"]).status_code == 200
    assert call_tool(http, base, "cursor-key-1234567890").status_code == 200
    assert call_tool(http, base, None).status_code == 401


# -- refresh and revocation ------------------------------------------------------------------


def _refresh(http: httpx.Client, base: str, client_id: str, token: str) -> httpx.Response:
    return http.post(
        f"{base}/token", data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
    )


def test_refresh_rotates_and_a_reused_refresh_token_revokes_its_family(
    http: httpx.Client, base: str, server: MCPServer
) -> None:
    grant = full_grant(http, server, base)
    bystander = full_grant(http, server, base)  # another grant: not touched by the reuse
    first = grant.tokens
    rotated = _refresh(http, base, grant.client_id, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert call_tool(http, base, second["access_token"]).status_code == 200

    reused = _refresh(http, base, grant.client_id, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        assert call_tool(http, base, token).status_code == 401
    assert _refresh(http, base, grant.client_id, second["refresh_token"]).status_code == 400
    assert call_tool(http, base, bystander.tokens["access_token"]).status_code == 200


def test_refresh_is_bound_to_its_client_and_scope(http: httpx.Client, base: str, server: MCPServer) -> None:
    grant = full_grant(http, server, base, scope="read")
    other = register(http, base)["client_id"]
    assert _refresh(http, base, other, grant.tokens["refresh_token"]).status_code == 400
    wider = http.post(
        f"{base}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant.tokens["refresh_token"],
            "client_id": grant.client_id,
            "scope": "read admin",
        },
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_revocation_takes_effect_at_once(http: httpx.Client, base: str, server: MCPServer) -> None:
    grant = full_grant(http, server, base)
    access = grant.tokens["access_token"]
    assert call_tool(http, base, access).status_code == 200  # now cached as verified
    answer = http.post(f"{base}/revoke", data={"token": access, "client_id": grant.client_id})
    assert answer.status_code == 200
    assert call_tool(http, base, access).status_code == 401
    # The refresh token still works (only the access token was revoked) ...
    renewed = _refresh(http, base, grant.client_id, grant.tokens["refresh_token"]).json()
    assert call_tool(http, base, renewed["access_token"]).status_code == 200
    # ... until it is revoked: then the whole grant is gone.
    http.post(f"{base}/revoke", data={"token": renewed["refresh_token"], "token_type_hint": "refresh_token"})
    assert call_tool(http, base, renewed["access_token"]).status_code == 401
    assert _refresh(http, base, grant.client_id, renewed["refresh_token"]).status_code == 400
    assert http.post(f"{base}/revoke", data={"token": "never-issued"}).status_code == 200
