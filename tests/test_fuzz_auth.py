"""A bounded fuzz run against one live server with auth on: no client input becomes a 5xx.

The server has an API key (and a labelled one), the built-in OAuth authorization server
(memory store), CORS for ``chatgpt``, an explicit rate limit and tools of every kind (sync,
async, with ``Context``, a generator, one needing the ``write`` scope, one that raises).
Hypothesis draws requests for ``/mcp`` (valid and broken JSON-RPC: every MCP 2025-11-25 method
and unknown ones, odd ids, batches, deep and huge bodies, wrong ``Content-Type``/``Accept``,
wrong or missing ``MCP-Protocol-Version`` and ``Mcp-Session-Id``, every HTTP method), the REST
facade, the Action schema and the OAuth endpoints, each with one of many credentials: none,
wrong key, right key, labelled key, garbage bearer, expired / forged / wrong-audience /
unsigned JWTs, real tokens from a consent flow. Every answer is < 500; every JSON-RPC answer
on ``/mcp`` passes the oracle; every 401 of ``/mcp`` and the REST facade names the resource
metadata. Afterwards the server still answers correctly, a fresh client from another address
gets a whole OAuth grant and calls a tool with it, and no call is left running.

Bounded: fixed example counts (10 requests each) adding up to more than 10,000 requests, a
timeout on each request, one keep-alive client; derandomized under CI (``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbmcp import Context, MCPServer, ToolError
from tests.fuzz_auth_doors import CLIENT, OWNER, REFRESH, oauth_requests, rest_requests, schema_requests
from tests.fuzz_auth_kit import BODY_LIMIT, LATEST, TOOLS, Req, mcp_requests
from tests.fuzz_auth_sender import KEY, Sender, credentials
from tests.oauth.consentkit import base_of, full_grant
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(300)

PER_EXAMPLE = 10
EXAMPLES = {"mcp": 520, "rest": 200, "schema": 100, "oauth": 200}
"""Examples per strategy; each sends ``PER_EXAMPLE`` requests: 10,200 in all."""
CI_KEY = "fuzz-ci-key-Qm4"


def fuzz_server() -> MCPServer:
    server = MCPServer(
        "fuzz-auth",
        api_key=KEY,
        api_keys={"ci": CI_KEY},
        auth="oauth",
        cors=["chatgpt"],
        rate_limit="1000000/1min",  # on, and too high to mask the fuzz
        tool_timeout=10,
    )
    server.oauth.configure(store="memory")
    server.config.failed_auth_limit = "1000000/1min"  # the fuzzing address sends wrong keys on purpose
    server.config.failed_auth_limit_total = "1000000/1min"
    server.config.max_body_bytes = BODY_LIMIT
    saved: list[str] = []

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    async def echo(value: Any = None) -> dict[str, Any]:
        """Echo the value back."""
        await asyncio.sleep(0)
        return {"value": value}

    @server.tool
    async def steps(n: int, ctx: Context) -> str:
        """Report progress and log along the way."""
        for i in range(1, min(n, 5) + 1):
            await ctx.report_progress(i, n, f"step {i}")
            await ctx.info(f"did {i}")
        return f"did {n}"

    @server.tool
    def lines(n: int = 2):  # type: ignore[no-untyped-def]
        """A generator."""
        for i in range(min(n, 8)):
            yield f"line {i}"

    @server.tool(scopes=["write"])
    def save(text: str) -> str:
        """Needs the write scope from an OAuth token."""
        saved.append(text[:10])
        return "saved"

    @server.tool
    def explode(reason: str = "boom") -> str:
        """Raises."""
        if reason == "tool":
            raise ToolError("refused")
        raise RuntimeError(reason)

    @server.tool
    def whoami(ctx: Context) -> str:
        """The caller's principal."""
        return ctx.principal.name if ctx.principal else "nobody"

    return server


@pytest.fixture(scope="module")
def live() -> Iterator[Sender]:
    server = fuzz_server()
    server.start()
    base = base_of(str(server.url))
    try:
        with httpx.Client(timeout=15, trust_env=False, follow_redirects=False) as honest:
            grants = {
                "token": full_grant(honest, server, base).tokens["access_token"],
                "write-token": full_grant(honest, server, base, scope="write").tokens["access_token"],
            }
            kept = full_grant(honest, server, base)  # its client and refresh token are fuzzed with
        fills = {CLIENT: kept.client_id, OWNER: KEY, REFRESH: kept.tokens["refresh_token"]}
        with Sender(server, base, credentials(server, base, grants, CI_KEY), fills) as sender:
            yield sender
    finally:
        server.stop()


def run(sender: Sender, door: str, draw: Any) -> None:
    """Send ``EXAMPLES[door]`` examples of ``PER_EXAMPLE`` requests drawn from ``draw``."""

    @settings(
        max_examples=EXAMPLES[door],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(batch=st.lists(draw, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
    def fuzz(batch: list[Req]) -> None:
        for req in batch:
            sender.send(req)

    fuzz.__name__ = fuzz.__qualname__ = f"fuzz_{door}"  # its own derandomized seed per door
    fuzz()


def test_fuzz_with_auth_on_then_still_correct(live: Sender) -> None:
    started = time.perf_counter()
    for door, draw in (
        ("mcp", mcp_requests()),
        ("rest", rest_requests()),
        ("schema", schema_requests()),
        ("oauth", oauth_requests()),
    ):
        run(live, door, draw)
    elapsed = time.perf_counter() - started
    sent = sum(live.sent.values())
    print(f"\nfuzz: {sent} requests in {elapsed:.1f} s; by door {dict(live.sent)}")
    print(f"  JSON-RPC messages judged by the oracle on /mcp: {dict(live.judged)}")
    for door in sorted(live.statuses):
        print(f"  {door}: {dict(sorted(live.statuses[door].items()))}")
    assert sent >= 10_000, live.sent
    assert not [s for door in live.statuses.values() for s in door if s >= 500]
    still_correct(live)


def still_correct(live: Sender) -> None:
    server, base, url = live.server, live.base, f"{live.base}/mcp"
    headers = {"X-API-Key": KEY, "Accept": "application/json, text/event-stream"}
    with httpx.Client(timeout=15, trust_env=False, follow_redirects=False) as http:
        assert http.get(f"{base}/health").status_code == 200

        def post(message: dict[str, Any]) -> httpx.Response:
            return http.post(url, json=message, headers=headers)

        ping = post(rpc("ping", msg_id="p"))
        assert ping.status_code == 200, ping.text
        oracle.validate_answer("ping", ping.json(), LATEST, request_id="p", expect="result")
        listed = post(rpc("tools/list", msg_id="l"))
        result = oracle.validate_answer("tools/list", listed.json(), LATEST, request_id="l", expect="result")
        assert sorted(tool["name"] for tool in result["tools"]) == sorted(TOOLS)
        call = post(rpc("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}}, msg_id="c"))
        result = oracle.validate_answer("tools/call", call.json(), LATEST, request_id="c", expect="result")
        assert result["structuredContent"] == {"result": 42} and not result.get("isError")
    fresh = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(timeout=15, trust_env=False, follow_redirects=False, transport=fresh) as other:
        token = full_grant(other, server, base).tokens["access_token"]
        bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        message = rpc("tools/call", {"name": "whoami", "arguments": {}}, msg_id=7)
        answer = other.post(url, json=message, headers=bearer)
        assert answer.status_code == 200, answer.text
        result = oracle.validate_answer("tools/call", answer.json(), LATEST, request_id=7, expect="result")
        assert result["content"][0]["text"] not in ("nobody", "default"), result
        rest = other.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers=bearer)
        assert rest.status_code == 200 and rest.json() == {"result": 3}, rest.text
    assert server.monitor.running == {}
