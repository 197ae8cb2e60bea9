"""Every door x every authentication mode: no credential -> 401, wrong -> 401, right -> 200.

Doors: ``/mcp`` JSON POST, ``/mcp`` SSE POST, the GET stream, DELETE, the REST facade,
``/docs``, and ``/openapi.json`` with ``protect_schema=True``. Modes: no auth, API key,
outside issuer, key + issuer, the built-in authorization server and key + built-in (a mode is
one :class:`Mode` in :data:`MODES`). The built-in server's tokens come from its real flow: a
client registers, a person types the owner key on the consent page, the code is traded for
tokens. Each 401's ``WWW-Authenticate`` is parsed: ``Bearer`` with
``realm="nbmcp"``; ``error="invalid_token"`` exactly when a credential was sent; and, exactly
when an OAuth mode is on, ``resource_metadata`` naming this server's RFC 9728 document, which
a client can then fetch without credentials and which names the issuer (the server itself for
the built-in one, whose RFC 8414 metadata is then served beside it). ``/health`` is open in
every mode, and so is ``/openapi.json`` unless ``protect_schema``.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from nbmcp import MCPServer
from nbmcp.auth.issuer import OAuthIssuer
from tests.auth.issuerkit import AUDIENCE, SUB, Key, TestIssuer, lenient
from tests.oauth import consentkit
from tests.peers import oracle
from tests.peers.peerkit import bare_client, rpc

pytestmark = pytest.mark.timeout(120)

KEY = "matrix-key-Jx8Wq"
VERSION = "2025-11-25"
_PARAM = re.compile(r'\s*([A-Za-z_]+)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x", error="y"`` -> ``("Bearer", {"realm": "x", "error": "y"})``; strict."""
    scheme, _, rest = value.partition(" ")
    params: dict[str, str] = {}
    at = 0
    while at < len(rest):
        found = _PARAM.match(rest, at)
        assert found is not None, f"unparsable challenge {value!r} at {rest[at:]!r}"
        assert found[1] not in params, f"{found[1]} twice in {value!r}"
        params[found[1]] = found[2]
        at = found.end()
    return scheme, params


@dataclass
class Mode:
    """One way to configure authentication, with the credentials that must and must not pass."""

    name: str
    build: Callable[[TestIssuer], dict[str, Any]]
    """``MCPServer`` keyword arguments, given the test issuer."""
    right: Callable[[TestIssuer, MCPServer], list[dict[str, str]]]
    """Credentials that must pass, given the issuer and the running server (the built-in
    authorization server mints its tokens from the server)."""
    wrong: Callable[[TestIssuer, MCPServer], list[dict[str, str]]] = lambda kit, server: []
    oauth: bool = False
    """Whether 401s must point to RFC 9728 metadata (an OAuth mode is on)."""
    issuer: Callable[[TestIssuer, MCPServer], str] | None = None
    """The authorization server the metadata must name."""
    prepare: Callable[[MCPServer], None] = lambda server: None
    """Called on the server before it starts (the built-in one keeps its state in memory)."""
    notes: list[str] = field(default_factory=list)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _forged(kit: TestIssuer) -> list[dict[str, str]]:
    return [
        _bearer(kit.mint(key=Key.make("RS256", kid=kit.keys[0].kid))),  # bad signature
        _bearer(kit.mint(aud="https://elsewhere")),
        _bearer(kit.forge("none", b"")),
    ]


def _issuer(kit: TestIssuer) -> OAuthIssuer:
    return OAuthIssuer(kit.url, AUDIENCE)


def _issuer_url(kit: TestIssuer, server: MCPServer) -> str:
    return kit.url


@dataclass
class Issued:
    """Tokens the built-in authorization server issued to one client, through its real flow."""

    access: str
    refresh: str
    revoked: str
    """An access token of a second grant, revoked at ``/revoke``."""
    derived: list[str]
    """Tokens made from ``access`` that must not pass: expired, wrong audience, signed by a
    stranger, unsigned (``alg: none``), payload changed under the signature."""


_ISSUED: weakref.WeakKeyDictionary[MCPServer, Issued] = weakref.WeakKeyDictionary()


def issued(server: MCPServer) -> Issued:
    """The built-in server's tokens for ``server`` (one flow per server, kept while it lives)."""
    found = _ISSUED.get(server)
    if found is not None:
        return found
    base = consentkit.base_of(str(server.url))
    with consentkit.client() as http:
        grant = consentkit.full_grant(http, server, base)
        gone = consentkit.full_grant(http, server, base)
        revoked = gone.tokens["access_token"]
        assert consentkit.call_tool(http, base, revoked).status_code == 200  # good (and cached) ...
        answer = http.post(f"{base}/revoke", data={"token": revoked, "client_id": gone.client_id})
        assert answer.status_code == 200  # ... until revoked
    access = grant.tokens["access_token"]
    key = server.oauth.authority(base).grants.key
    claims = jwt.decode(access, options={"verify_signature": False})
    header = jwt.get_unverified_header(access)
    now = int(time.time())
    nothing: Any = None  # alg none signs with no key
    head, _, signature = access.split(".")
    derived = [
        key.sign({**claims, "iat": now - 7200, "exp": now - 3600}),  # expired
        key.sign({**claims, "aud": "http://127.0.0.1:1/mcp"}),  # another server's audience
        jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers=header),
        jwt.encode(claims, nothing, algorithm="none", headers={k: header[k] for k in header if k != "alg"}),
        ".".join([head, jwt.utils.base64url_encode(b'{"sub":"x"}').decode(), signature]),
    ]
    found = _ISSUED[server] = Issued(access, grant.tokens["refresh_token"], revoked, derived)
    return found


def _builtin_right(server: MCPServer) -> list[dict[str, str]]:
    return [_bearer(issued(server).access)]


def _builtin_wrong(server: MCPServer) -> list[dict[str, str]]:
    tokens = issued(server)
    return [
        *(_bearer(t) for t in tokens.derived),
        _bearer(tokens.revoked),
        _bearer(tokens.refresh),  # a refresh token is no access token
        _bearer("garbage"),
        {"X-API-Key": "wrong"},
    ]


def _in_memory(server: MCPServer) -> None:
    server.oauth.configure(store="memory")  # nothing written under the user's config directory


def _itself(kit: TestIssuer, server: MCPServer) -> str:
    return consentkit.base_of(str(server.url))


MODES = [
    Mode("none", lambda kit: {}, lambda kit, server: [{}]),
    Mode(
        "key",
        lambda kit: {"api_key": KEY},
        lambda kit, server: [{"X-API-Key": KEY}, _bearer(KEY)],
        lambda kit, server: [{"X-API-Key": "wrong"}, _bearer("wrong"), {"Authorization": f"Basic {KEY}"}],
    ),
    Mode(
        "issuer",
        lambda kit: {"auth": _issuer(kit)},
        lambda kit, server: [_bearer(kit.mint())],
        lambda kit, server: [*_forged(kit), {"X-API-Key": KEY}],
        oauth=True,
        issuer=_issuer_url,
    ),
    Mode(
        "key+issuer",
        lambda kit: {"api_key": KEY, "auth": _issuer(kit)},
        lambda kit, server: [{"X-API-Key": KEY}, _bearer(KEY), _bearer(kit.mint())],
        lambda kit, server: [*_forged(kit), {"X-API-Key": "wrong"}, _bearer("wrong")],
        oauth=True,
        issuer=_issuer_url,
    ),
    Mode(
        "builtin",
        lambda kit: {"auth": "oauth"},
        # the generated owner key (server.access_key) is an API key too
        lambda kit, server: [*_builtin_right(server), {"X-API-Key": str(server.access_key)}],
        lambda kit, server: [*_builtin_wrong(server), {"X-API-Key": KEY}, _bearer(KEY)],
        oauth=True,
        issuer=_itself,
        prepare=_in_memory,
    ),
    Mode(
        "key+builtin",
        lambda kit: {"api_key": KEY, "auth": "oauth"},
        lambda kit, server: [*_builtin_right(server), {"X-API-Key": KEY}, _bearer(KEY)],
        lambda kit, server: [*_builtin_wrong(server), _bearer("wrong"), _bearer(kit.mint())],
        oauth=True,
        issuer=_itself,
        prepare=_in_memory,
    ),
]


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes


class Rig:
    """One running server in one mode, and a client."""

    def __init__(self, mode: Mode, kit: TestIssuer) -> None:
        self.mode = mode
        self.kit = kit
        self.server = lenient(MCPServer("matrix", protect_schema=True, **mode.build(kit)))

        @self.server.tool
        def add(a: int, b: int) -> int:
            """Add two numbers."""
            return a + b

        mode.prepare(self.server)
        self.url = self.server.start()
        self.base = self.url.removesuffix("/mcp")
        self.http = bare_client()

    def right(self) -> list[dict[str, str]]:
        return self.mode.right(self.kit, self.server)

    def wrong(self) -> list[dict[str, str]]:
        return self.mode.wrong(self.kit, self.server)

    def close(self) -> None:
        self.http.close()
        self.server.stop()

    def session(self, credentials: dict[str, str]) -> str:
        """Open a session with ``credentials`` (a session belongs to who opened it)."""
        params = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "m", "version": "0"}}
        headers = {"Content-Type": "application/json", "Accept": "application/json", **credentials}
        answer = self.http.post(self.url, json=rpc("initialize", params), headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.headers["mcp-session-id"]


def _post_json(rig: Rig, creds: dict[str, str], session: str) -> Answer:
    body = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, msg_id=3)
    headers = {"Content-Type": "application/json", "Accept": "application/json", **creds}
    r = rig.http.post(rig.url, json=body, headers=headers)
    if r.status_code == 200:
        result = oracle.validate_answer("tools/call", r.json(), VERSION, request_id=3, expect="result")
        assert result["structuredContent"] == {"result": 3}
    return Answer(r.status_code, r.headers, r.content)


def _post_sse(rig: Rig, creds: dict[str, str], session: str) -> Answer:
    body = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, msg_id=4)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **creds}
    r = rig.http.post(rig.url, json=body, headers=headers)
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert '"structuredContent":{"result":3}' in r.text
    return Answer(r.status_code, r.headers, r.content)


def _get_stream(rig: Rig, creds: dict[str, str], session: str) -> Answer:
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION}
    with rig.http.stream("GET", rig.url, headers={**headers, **creds}) as r:
        if r.status_code == 200:  # read the priming event, then hang up
            assert r.headers["content-type"].startswith("text/event-stream")
            first = next(r.iter_lines())
            assert first.startswith("id:"), first
            return Answer(200, r.headers, b"")
        return Answer(r.status_code, r.headers, r.read())


def _delete(rig: Rig, creds: dict[str, str], session: str) -> Answer:
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION, **creds}
    r = rig.http.delete(rig.url, headers=headers)
    return Answer(r.status_code, r.headers, r.content)


def _rest(rig: Rig, creds: dict[str, str], session: str) -> Answer:
    r = rig.http.post(f"{rig.base}/tools/add", json={"a": 1, "b": 2}, headers=creds)
    if r.status_code == 200:
        assert r.json() == {"result": 3}
    return Answer(r.status_code, r.headers, r.content)


def _get(path: str) -> Callable[[Rig, dict[str, str], str], Answer]:
    def door(rig: Rig, creds: dict[str, str], session: str) -> Answer:
        r = rig.http.get(rig.base + path, headers=creds)
        return Answer(r.status_code, r.headers, r.content)

    return door


DOORS: dict[str, Callable[[Rig, dict[str, str], str], Answer]] = {
    "mcp-json": _post_json,
    "mcp-sse": _post_sse,
    "get-stream": _get_stream,
    "delete": _delete,
    "rest": _rest,
    "docs": _get("/docs"),
    "openapi-protected": _get("/openapi.json"),
}


@pytest.fixture(scope="module")
def kit() -> Iterator[TestIssuer]:
    with TestIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="module", params=MODES, ids=[m.name for m in MODES])
def rig(request: pytest.FixtureRequest, kit: TestIssuer) -> Iterator[Rig]:
    made = Rig(request.param, kit)
    yield made
    made.close()


def check_refused(rig: Rig, door: str, answer: Answer, *, sent: bool) -> None:
    assert answer.status == 401, (rig.mode.name, door, answer.status, answer.body[:300])
    scheme, params = parse_challenge(answer.headers["www-authenticate"])
    assert scheme == "Bearer" and params["realm"] == "nbmcp", params
    if sent:
        assert params.get("error") == "invalid_token", params
    else:
        assert "error" not in params, params
    if rig.mode.oauth:
        assert params["resource_metadata"] == f"{rig.base}/.well-known/oauth-protected-resource/mcp"
    else:
        assert "resource_metadata" not in params, params
    payload = httpx.Response(401, content=answer.body).json()
    if door in ("mcp-json", "mcp-sse", "get-stream", "delete"):  # /mcp refuses in JSON-RPC
        oracle.validate_answer(None, payload, VERSION, expect="error")
    else:
        assert payload["type"] == "unauthorized" and set(payload) == {"error", "type"}
    assert KEY.encode() not in answer.body
    if rig.server.access_key:
        assert rig.server.access_key.encode() not in answer.body


@pytest.mark.parametrize("door", list(DOORS))
def test_no_credential(rig: Rig, door: str) -> None:
    session = rig.session(rig.right()[0])
    answer = DOORS[door](rig, {}, session)
    if rig.mode.name == "none":
        assert answer.status == 200, (door, answer.status, answer.body[:300])
    else:
        check_refused(rig, door, answer, sent=False)


@pytest.mark.parametrize("door", list(DOORS))
def test_wrong_credential(rig: Rig, door: str) -> None:
    session = rig.session(rig.right()[0])
    for creds in rig.wrong():
        # a credential in another scheme (Basic) is no credential here: no error code for it
        sent = "X-API-Key" in creds or creds.get("Authorization", "").startswith("Bearer ")
        check_refused(rig, door, DOORS[door](rig, creds, session), sent=sent)


@pytest.mark.parametrize("door", list(DOORS))
def test_right_credential(rig: Rig, door: str) -> None:
    for creds in rig.right():
        session = rig.session(creds)
        answer = DOORS[door](rig, creds, session)
        assert answer.status == 200, (rig.mode.name, door, creds.keys(), answer.status, answer.body[:300])


def test_principals_in_call_records(rig: Rig) -> None:
    owner = {KEY, rig.server.access_key}
    for creds in rig.right():
        assert _post_json(rig, creds, "").status == 200
        sent = creds.get("X-API-Key") or creds.get("Authorization", "").removeprefix("Bearer ")
        if not creds:
            expected = None
        elif sent in owner:
            expected = "default"
        else:  # a token: its subject, the outside issuer's user or the built-in server's
            expected = jwt.decode(sent, options={"verify_signature": False})["sub"]
            assert rig.mode.name not in ("issuer", "key+issuer") or expected == SUB
        assert rig.server.monitor.journal[-1].principal == expected, creds.keys()


def test_health_and_the_schema_are_open(rig: Rig) -> None:
    assert rig.http.get(f"{rig.base}/health").json()["status"] == "ok"
    rig.server.config.protect_schema = False  # the default
    try:
        for path in ("/openapi.json", "/openapi.yaml"):
            assert rig.http.get(rig.base + path).status_code == 200, path
        assert rig.http.get(f"{rig.base}/openapi.json").json()["paths"]["/tools/add"]
        assert rig.http.get(f"{rig.base}/docs").status_code == (200 if rig.mode.name == "none" else 401)
    finally:
        rig.server.config.protect_schema = True


def test_a_bare_401_leads_to_the_issuer(rig: Rig) -> None:
    """What ChatGPT and Claude do: 401 -> resource_metadata -> the authorization server."""
    refused = rig.http.post(
        rig.url, json=rpc("tools/list", msg_id=1), headers={"Content-Type": "application/json"}
    )
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        document = rig.http.get(rig.base + path)
        if not rig.mode.oauth:
            assert document.status_code == 404, path
            continue
        assert document.status_code == 200, path
        assert document.json()["resource"] == rig.url
        assert rig.mode.issuer is not None
        assert document.json()["authorization_servers"] == [rig.mode.issuer(rig.kit, rig.server)]
    if rig.mode.oauth:
        _, params = parse_challenge(refused.headers["www-authenticate"])
        assert rig.http.get(params["resource_metadata"]).json()["resource"] == rig.url
    if rig.mode.prepare is _in_memory:  # the built-in server: its own RFC 8414 metadata, at the root
        metadata = rig.http.get(f"{rig.base}/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == rig.base
        for endpoint in ("authorization", "token", "registration", "revocation"):
            assert metadata[f"{endpoint}_endpoint"].startswith(f"{rig.base}/"), metadata


def test_the_challenge_parser_is_strict() -> None:
    assert parse_challenge('Bearer realm="a", error="b"') == ("Bearer", {"realm": "a", "error": "b"})
    for bad in ('Bearer realm="a" error="b"', "Bearer realm=a", 'Bearer realm="a", realm="b"'):
        with pytest.raises(AssertionError):
            parse_challenge(bad)
