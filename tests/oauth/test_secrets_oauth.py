"""The built-in authorization server's secrets are written nowhere a person or a log collector reads.

In process, with the root logger and nbmcp's and uvicorn's loggers at DEBUG and one handler
keeping every record, a server with ``auth="oauth"`` goes through the whole flow over real
HTTP: registration (a public and a confidential client), a wrong key then the right one on the
consent page, approval from the notebook with the page's code, the code traded for tokens,
refresh with rotation, revocation; then it is used and misused: tool calls on ``/mcp`` and
REST with the token and with the owner key, a tool that raises, a middleware that raises, a
bad, a revoked and a refresh token as bearer, a reused code, a reused refresh token, a wrong
client secret, a cookie. Afterwards no access token, refresh token, authorization code,
client secret, owner key, approval code, PKCE verifier, signing key, cookie or
``Authorization`` value appears in any log record (message, args, exception text, stack), any
call record, any error answer the client got (body and headers), or the repr of the server,
its config or its authorization server. The one place the approval code belongs is the
consent page of the browser that asked (it shows it so the owner can type it in the
notebook): consent pages are checked for every secret but that one.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from nbmcp import MCPServer
from tests.oauth.consentkit import (
    REDIRECT,
    Consent,
    approve_form,
    authorize_url,
    base_of,
    client,
    oauth_server,
    pkce,
    read_forms,
    register,
)
from tests.test_secrets import CLIENT_LOGGERS, Recorder, _debug_again, _record_texts, recorder  # noqa: F401

pytestmark = pytest.mark.timeout(120)

WRONG_KEY = "wrong-owner-key-" + secrets.token_hex(12)
COOKIE = "cookie-secret-" + secrets.token_hex(12)
_CODE = re.compile(r'<span class="code">([A-Z2-9]{4}-[A-Z2-9]{4})</span>')
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Broken(Exception):
    """What this test's failing middleware raises."""


async def breaking(request: Any, call_next: Any) -> Any:
    if request.headers.get("x-break") == "1":
        raise Broken("middleware broke")
    return await call_next(request)


@dataclass
class Seen:
    """Every secret that went by, and every answer a client should not learn one from."""

    secrets: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(what, the whole answer: status, headers, body) for every answer of status 400 or more."""
    pages: list[tuple[str, str]] = field(default_factory=list)
    """Consent pages (the approval code is meant to be on them)."""

    def add(self, what: str, value: str) -> None:
        assert value and len(value) >= 8, (what, value)
        self.secrets[f"{what} #{len(self.secrets)}"] = value

    def answer(self, what: str, response: httpx.Response) -> httpx.Response:
        shown = f"{response.status_code} {dict(response.headers)!r} {response.text}"
        if response.status_code >= 400:
            self.errors.append((what, shown))
        if response.headers.get("content-type", "").startswith("text/html"):
            self.pages.append((what, shown))
            for code in _CODE.findall(response.text):  # every consent page shows one
                if code not in self.secrets.values():
                    self.add("approval code", code)
                    self.add("approval code", code.replace("-", ""))
        return response

    def leaks(self, text: str, *, but: tuple[str, ...] = ()) -> list[str]:
        return [what for what, value in self.secrets.items() if value in text and not what.startswith(but)]


def test_leaks_finds_each_kind_of_secret() -> None:
    seen = Seen()
    seen.add("approval code", "ABCD-EFGH")
    seen.add("access token", "eyJhbGciOi.payload.signature")
    assert seen.leaks("run %mcp approve ABCD-EFGH") == ["approval code #0"]
    assert seen.leaks("run %mcp approve ABCD-EFGH", but=("approval code",)) == []
    assert seen.leaks("Bearer eyJhbGciOi.payload.signature") == ["access token #1"]
    assert seen.leaks("nothing here") == []


def _trade(http: httpx.Client, base: str, seen: Seen, form: dict[str, str], **kw: Any) -> dict[str, Any]:
    answer = seen.answer("token", http.post(f"{base}/token", data=form, **kw))
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    seen.add("access token", tokens["access_token"])
    seen.add("refresh token", tokens["refresh_token"])
    seen.add("Authorization", f"Bearer {tokens['access_token']}")
    return tokens


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _flow(http: httpx.Client, server: MCPServer, base: str, seen: Seen) -> dict[str, Any]:
    """The whole flow, with its wrong turns; returns the tokens in use."""
    owner = str(server.access_key)
    seen.add("owner key", owner)
    seen.add("a wrong consent key", WRONG_KEY)
    store = server.oauth.authority(base).grants.key
    store.sign({"sub": "warm", "aud": "x", "iss": "x", "exp": 1, "iat": 1, "jti": "x"})  # make the key
    pem = server.oauth.authority(base).store.get("meta", "signing_key")["pem"]
    seen.add("signing key", pem.splitlines()[2])

    # a public client: a wrong key on the consent page, then the right one
    public = register(http, base)["client_id"]
    verifier, challenge = pkce()
    seen.add("PKCE verifier", verifier)
    url = authorize_url(base, public, challenge)
    page = seen.answer("consent page", http.get(url))
    form = approve_form(page.text)
    target = urljoin(url, form.action)
    wrong = seen.answer(
        "wrong key", http.post(target, data={**form.fields, "key": WRONG_KEY, "action": "approve"})
    )
    assert wrong.status_code == 403 and "not the owner key" in wrong.text
    form = approve_form(wrong.text)  # the form again
    right = http.post(target, data={**form.fields, "key": owner, "action": "approve"})
    consent = Consent(right.status_code, right.headers.get("location"), right.text)
    assert consent.status == 303, consent.page[:300]
    code = consent.params["code"]
    seen.add("authorization code", code)
    first = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": public,
        "code_verifier": verifier,
    }
    tokens = _trade(http, base, seen, first)
    reused = seen.answer("reused code", http.post(f"{base}/token", data=first))
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # the reuse revoked what the code gave: get another grant the same way
    verifier, challenge = pkce()
    seen.add("PKCE verifier", verifier)
    url = authorize_url(base, public, challenge)
    form = approve_form(seen.answer("consent page", http.get(url)).text)
    consent = Consent(*_post_key(http, urljoin(url, form.action), form.fields, owner))
    code = consent.params["code"]
    seen.add("authorization code", code)
    tokens = _trade(http, base, seen, {**first, "code": code, "code_verifier": verifier})

    # a confidential client, approved from the notebook with the page's code
    registered = register(http, base, token_endpoint_auth_method="client_secret_basic")
    confidential, client_secret = registered["client_id"], registered["client_secret"]
    seen.add("client secret", client_secret)
    seen.add("Authorization", _basic(confidential, client_secret))
    verifier, challenge = pkce()
    seen.add("PKCE verifier", verifier)
    page = seen.answer("consent page", http.get(authorize_url(base, confidential, challenge)))
    shown = _CODE.search(page.text)
    assert shown is not None
    approval = shown.group(1)
    assert approval in seen.secrets.values()
    # what the notebook may display of a waiting request: the code, not the form's handle and token
    hidden = read_forms(page.text).forms[0].fields
    waiting = repr(server.oauth.waiting())
    assert approval in waiting and hidden["csrf_token"] not in waiting and hidden["request"] not in waiting
    assert server.oauth.approve(approval) is not None  # what %mcp approve CODE does
    cont = [f for f in read_forms(page.text).forms if f.buttons.get("action") == "continue"]
    went = http.post(f"{base}/authorize", data={**cont[0].fields, "action": "continue"})
    consent = Consent(went.status_code, went.headers.get("location"), went.text)
    code = consent.params["code"]
    seen.add("authorization code", code)
    trade = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    bad_secret = _basic(confidential, "not-the-secret-" + secrets.token_hex(8))
    seen.add("Authorization", bad_secret)
    refused = seen.answer(
        "wrong secret", http.post(f"{base}/token", data=trade, headers={"Authorization": bad_secret})
    )
    assert refused.status_code == 401
    other = _trade(http, base, seen, trade, headers={"Authorization": _basic(confidential, client_secret)})

    # refresh with rotation; a reused refresh token revokes its family
    refresh = {"grant_type": "refresh_token", "refresh_token": other["refresh_token"]}
    basic = {"Authorization": _basic(confidential, client_secret)}
    rotated = _trade(http, base, seen, refresh, headers=basic)
    again = seen.answer("reused refresh", http.post(f"{base}/token", data=refresh, headers=basic))
    assert again.status_code == 400
    # revocation
    gone = seen.answer(
        "revoke", http.post(f"{base}/revoke", data={"token": tokens["access_token"], "client_id": public})
    )
    assert gone.status_code == 200
    # the public client's second grant's access token is now revoked; make a live one
    verifier, challenge = pkce()
    seen.add("PKCE verifier", verifier)
    url = authorize_url(base, public, challenge)
    form = approve_form(seen.answer("consent page", http.get(url)).text)
    consent = Consent(*_post_key(http, urljoin(url, form.action), form.fields, owner))
    seen.add("authorization code", consent.params["code"])
    live = _trade(http, base, seen, {**first, "code": consent.params["code"], "code_verifier": verifier})
    return {"live": live, "revoked": tokens, "family": (other, rotated)}


def _post_key(
    http: httpx.Client, target: str, fields: dict[str, str], key: str
) -> tuple[int, str | None, str]:
    answer = http.post(target, data={**fields, "key": key, "action": "approve"})
    assert answer.status_code == 303, answer.text[:300]
    return answer.status_code, answer.headers.get("location"), answer.text


def _use(http: httpx.Client, server: MCPServer, url: str, seen: Seen, tokens: dict[str, Any]) -> None:
    """Calls, good and bad, on /mcp and REST."""
    base = base_of(url)
    live = {"Authorization": f"Bearer {tokens['live']['access_token']}", "Cookie": f"s={COOKIE}"}
    seen.add("cookie", COOKIE)
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "s", "version": "1"}}
    opened = http.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        headers={**HEADERS, **live},
    )
    assert opened.status_code == 200, opened.text
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}

    def call(
        name: str, arguments: dict[str, Any], creds: dict[str, str], what: str, **extra: str
    ) -> httpx.Response:
        body = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        return seen.answer(what, http.post(url, json=body, headers={**HEADERS, **session, **creds, **extra}))

    added = call("add", {"a": 1, "b": 2}, live, "add")
    assert added.json()["result"]["structuredContent"] == {"result": 3}
    exploded = call("explode", {"why": "no reason"}, live, "explode")
    assert exploded.json()["result"]["isError"] is True
    broke = call("add", {"a": 1, "b": 2}, live, "middleware", **{"x-break": "1"})
    assert broke.status_code == 500
    owner = {"X-API-Key": str(server.access_key)}
    assert (
        seen.answer(
            "rest owner", http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers=owner)
        ).status_code
        == 200
    )
    rest = {"Authorization": live["Authorization"]}
    assert (
        seen.answer("rest", http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers=rest)).status_code
        == 200
    )
    assert (
        seen.answer(
            "rest explode", http.post(f"{base}/tools/explode", json={"why": "x"}, headers=rest)
        ).status_code
        == 400
    )
    broke = seen.answer(
        "rest mw", http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers={**rest, "x-break": "1"})
    )
    assert broke.status_code == 500
    _, rotated = tokens["family"]
    refused = {
        "bad token": "Bearer " + tokens["live"]["access_token"][:-6] + "AAAAAA",
        "revoked token": f"Bearer {tokens['revoked']['access_token']}",
        "refresh as access": f"Bearer {tokens['live']['refresh_token']}",
        "revoked family": f"Bearer {rotated['access_token']}",
        "wrong key": f"Bearer {WRONG_KEY}",
    }
    for what, value in refused.items():
        seen.add("Authorization", value)
        creds = {"Authorization": value, "Cookie": f"s={COOKIE}"}
        assert call("add", {"a": 1, "b": 2}, creds, what).status_code == 401, what
        answer = seen.answer(what, http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers=creds))
        assert answer.status_code == 401, what
    assert (
        seen.answer(
            "wrong api key", http.post(f"{base}/tools/add", json={}, headers={"X-API-Key": WRONG_KEY})
        ).status_code
        == 401
    )


@pytest.fixture
def server() -> Iterator[MCPServer]:
    server = oauth_server("oauth-secrets", middleware=[breaking])

    @server.tool
    def explode(why: str) -> str:
        """Always raises."""
        raise ValueError(f"exploded: {why}")

    server.oauth.configure(store="memory")
    server.start()
    yield server
    server.stop()


def test_no_oauth_secret_in_logs_records_errors_or_reprs(recorder: Recorder, server: MCPServer) -> None:  # noqa: F811
    _debug_again()
    url = str(server.url)
    base = base_of(url)
    seen = Seen()
    with client() as http:
        tokens = _flow(http, server, base, seen)
        _use(http, server, url, seen, tokens)
    kinds = {what.split(" #")[0] for what in seen.secrets}
    assert kinds >= {
        "access token",
        "refresh token",
        "authorization code",
        "client secret",
        "owner key",
        "approval code",
        "Authorization",
        "cookie",
        "PKCE verifier",
        "signing key",
        "a wrong consent key",
    }, kinds

    # the capture worked: nbmcp's own records are here, the failures' among them, with tracebacks
    mine = [r for r in recorder.records if r.name.startswith("nbmcp")]
    assert any("exploded: no reason" in r.getMessage() for r in mine), [r.getMessage() for r in mine]
    assert any("middleware" in r.getMessage() and r.exc_text for r in mine), [r.getMessage() for r in mine]
    found = []
    for record in recorder.records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue  # this test's own HTTP client
        for text in _record_texts(record):
            if seen.leaks(text):
                found.append((record.name, record.levelname, seen.leaks(text), text[:300]))
    assert not found, found

    calls = server.monitor.journal
    assert len(calls) >= 5, calls  # MCP and REST calls, the failing ones among them
    for event in calls:
        shown = json.dumps(event.to_dict(), default=str) + repr(event)
        assert not seen.leaks(shown), shown[:500]

    assert len(seen.errors) >= 15, [w for w, _ in seen.errors]
    for what, shown in seen.errors:
        but = ("approval code",) if shown.find("text/html") >= 0 else ()
        assert not seen.leaks(shown, but=but), (what, seen.leaks(shown, but=but), shown[:600])
    for what, shown in seen.pages:
        assert not seen.leaks(shown, but=("approval code",)), (what, shown[:600])
    for shown in (repr(server), str(server), repr(server.config), str(server.config), repr(server.oauth)):
        assert not seen.leaks(shown), shown


def test_mcp_start_oauth_shows_the_generated_owner_key_in_no_iopub_message(tmp_path: Any) -> None:
    """``%mcp start --oauth`` and what follows show the generated key masked only, in every message.

    The key is read back through a file, never printed, so no cell of this test shows it; every
    IOPub message (streams, results, displays, widget comms, the cells' own echo) is checked.
    """
    from tests.notebook.kernelkit import Kernel

    kernel = Kernel()
    where = tmp_path / "key.txt"
    try:
        replies = {"load": kernel.run("%load_ext nbmcp").ok()}
        replies["tool"] = kernel.run("%%mcp_tool\ndef add(a: int, b: int) -> int:\n    return a + b\n").ok()
        replies["start"] = kernel.run("%mcp start --oauth --port 0").ok()
        kernel.run(f"import nbmcp; open({str(where)!r}, 'w').write(nbmcp.current_server().access_key);").ok()
        key = where.read_text()
        assert len(key) >= 24
        url = re.search(r"at (http://127\.0\.0\.1:\d+/mcp)", replies["start"].stdout)
        assert url is not None
        assert f"\u2022\u2022\u2022\u2022{key[-4:]}" in replies["start"].stdout  # shown masked
        base = base_of(url.group(1))
        with client() as http:  # a client waits at the consent page; the owner looks and approves
            client_id = register(http, base)["client_id"]
            page = http.get(authorize_url(base, client_id, pkce()[1])).text
            code = _CODE.search(page)
            assert code is not None
            replies["approve list"] = kernel.run("%mcp approve").ok()
            replies["approve"] = kernel.run(f"%mcp approve {code.group(1)}").ok()
            assert "approved" in replies["approve"].stdout
            refused = http.post(f"{base}/tools/add", json={"a": 1, "b": 2})
            assert refused.status_code == 401
            allowed = http.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"X-API-Key": key})
            assert allowed.status_code == 200  # the key read back is the one in force
        for cell in ("%mcp status", "%mcp", "%mcp tools", "%mcp start --oauth --port 0", "%mcp stop"):
            replies[cell] = kernel.run(cell)
        for cell, reply in replies.items():
            assert reply.messages and any(m["msg_type"] == "status" for m in reply.messages), cell
            everything = json.dumps(
                [{"type": m["msg_type"], "content": m["content"]} for m in reply.messages]
            )
            for part in (everything, reply.stdout, reply.stderr, reply.text):
                assert key not in part and key[:-4] not in part, (cell, part[:1000])
    finally:
        kernel.shutdown()
