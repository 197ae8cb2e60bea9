"""Scopes: ``@server.tool(scopes=["write"])`` and ``OAuthIssuer(scopes=[...])``.

A token without a tool's scopes gets HTTP 403 with ``WWW-Authenticate: Bearer
error="insufficient_scope", scope="write", resource_metadata=...`` when it calls the tool
(``tools/call`` on ``/mcp``, JSON or SSE, and ``POST /tools/{name}``); the tool stays listed,
other tools still work, and nothing ran. A token with the scopes calls it; API keys are not
subject to scopes. Scopes the issuer requires for everything are checked on every door.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer, ToolDefinitionError
from nbmcp.auth.issuer import OAuthIssuer
from tests.auth.issuerkit import AUDIENCE, SUB, TestIssuer, lenient
from tests.auth.test_auth_matrix import parse_challenge
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(120)

KEY = "scopes-key-Vn3"
VERSION = "2025-11-25"


@pytest.fixture(scope="module")
def kit() -> Iterator[TestIssuer]:
    with TestIssuer() as issuer:
        yield issuer


def build(kit: TestIssuer, **options: Any) -> MCPServer:
    server = lenient(MCPServer("scoped", api_key=KEY, auth=OAuthIssuer(kit.url, AUDIENCE, **options)))
    server.saved: list[str] = []  # type: ignore[attr-defined]

    @server.tool(scopes=["write", "notes:edit"])
    def save(text: str) -> str:
        """Save a note."""
        server.saved.append(text)  # type: ignore[attr-defined]
        return "saved"

    @server.tool
    def read() -> str:
        """Read the notes."""
        return "notes"

    return server


def mcp(
    url: str, auth: dict[str, str], method: str, params: Any, accept: str = "application/json"
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Accept": accept, **auth}
    return httpx.post(url, json=rpc(method, params, msg_id=9), headers=headers, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def check_insufficient(answer: httpx.Response, base: str, wanted: str) -> None:
    assert answer.status_code == 403, answer.text
    scheme, params = parse_challenge(answer.headers["www-authenticate"])
    assert scheme == "Bearer"
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == wanted
    assert params["resource_metadata"] == f"{base}/.well-known/oauth-protected-resource/mcp"


def test_a_token_without_the_tools_scopes_gets_403(kit: TestIssuer, serve: Any) -> None:
    server = build(kit)
    url = serve(server)
    base = url.removesuffix("/mcp")
    reader = bearer(kit.mint(scope="read"))
    listed = mcp(url, reader, "tools/list", {})
    assert {t["name"] for t in listed.json()["result"]["tools"]} == {"save", "read"}  # still listed
    for accept in ("application/json", "text/event-stream", "application/json, text/event-stream"):
        refused = mcp(url, reader, "tools/call", {"name": "save", "arguments": {"text": "x"}}, accept)
        check_insufficient(refused, base, "notes:edit write")
        error = oracle.validate_answer("tools/call", refused.json(), VERSION, request_id=9, expect="error")
        assert "notes:edit, write" in error["message"]
    rest = httpx.post(f"{base}/tools/save", json={"text": "x"}, headers=reader, timeout=10)
    check_insufficient(rest, base, "notes:edit write")
    assert rest.json()["type"] == "insufficient_scope"
    partial = bearer(kit.mint(scope="read write"))  # one of the two is not enough
    check_insufficient(
        mcp(url, partial, "tools/call", {"name": "save", "arguments": {"text": "x"}}),
        base,
        "notes:edit write",
    )
    assert server.saved == []  # type: ignore[attr-defined]
    assert server.monitor.total_calls == 0
    ok = mcp(url, reader, "tools/call", {"name": "read", "arguments": {}})
    assert ok.status_code == 200 and ok.json()["result"]["content"][0]["text"] == "notes"


def test_a_token_with_the_scopes_or_an_api_key_calls_the_tool(kit: TestIssuer, serve: Any) -> None:
    server = build(kit)
    url = serve(server)
    base = url.removesuffix("/mcp")
    writer = bearer(kit.mint(scope="read write notes:edit"))
    answer = mcp(url, writer, "tools/call", {"name": "save", "arguments": {"text": "by token"}})
    assert answer.status_code == 200, answer.text
    oracle.validate_answer("tools/call", answer.json(), VERSION, request_id=9, expect="result")
    assert server.monitor.journal[-1].principal == SUB
    as_list = bearer(kit.mint(scope=None, scp=["write", "notes:edit"]))  # Okta/Entra style
    assert (
        httpx.post(f"{base}/tools/save", json={"text": "scp"}, headers=as_list, timeout=10).status_code == 200
    )
    for key in ({"X-API-Key": KEY}, bearer(KEY)):
        assert (
            mcp(url, key, "tools/call", {"name": "save", "arguments": {"text": "by key"}}).status_code == 200
        )
        assert (
            httpx.post(f"{base}/tools/save", json={"text": "rest key"}, headers=key, timeout=10).status_code
            == 200
        )
    assert server.saved == ["by token", "scp", "by key", "rest key", "by key", "rest key"]  # type: ignore[attr-defined]
    assert server.monitor.journal[-1].principal == "default"


def test_scopes_the_issuer_requires_for_everything(kit: TestIssuer, serve: Any) -> None:
    server = build(kit, scopes=["mcp:use"])
    url = serve(server)
    base = url.removesuffix("/mcp")
    plain = bearer(kit.mint(scope="read write notes:edit"))
    check_insufficient(mcp(url, plain, "tools/list", {}), base, "mcp:use")
    check_insufficient(httpx.post(f"{base}/tools/read", json={}, headers=plain, timeout=10), base, "mcp:use")
    check_insufficient(httpx.get(f"{base}/docs", headers=plain, timeout=10), base, "mcp:use")
    allowed = bearer(kit.mint(scope="mcp:use"))
    assert mcp(url, allowed, "tools/call", {"name": "read", "arguments": {}}).status_code == 200
    check_insufficient(
        mcp(url, allowed, "tools/call", {"name": "save", "arguments": {"text": "x"}}),
        base,
        "notes:edit write",
    )
    assert mcp(url, {"X-API-Key": KEY}, "tools/list", {}).status_code == 200  # keys: no scopes
    document = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert document["scopes_supported"] == ["mcp:use", "notes:edit", "write"]


def test_a_session_opened_with_one_token_keeps_checking_the_current_one(kit: TestIssuer, serve: Any) -> None:
    server = build(kit)
    url = serve(server)
    init = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "s", "version": "0"}}
    opened = mcp(url, bearer(kit.mint(scope="read write notes:edit")), "initialize", init)
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": VERSION}
    narrower = {**session, **bearer(kit.mint(scope="read"))}  # same subject, fewer scopes
    refused = mcp(url, narrower, "tools/call", {"name": "save", "arguments": {"text": "x"}})
    assert refused.status_code == 403
    assert server.saved == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("scopes", ["write", ["a b"], ['say"hi'], [""], [7]])
def test_scopes_must_be_a_list_of_scope_names(scopes: Any) -> None:
    server = MCPServer("bad")
    with pytest.raises(ToolDefinitionError, match="scopes must be a list of scope names"):

        @server.tool(scopes=scopes)
        def tool() -> None:
            """Nothing."""
