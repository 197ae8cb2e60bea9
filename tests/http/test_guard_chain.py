"""One guard chain: every door's requests pass it exactly once, however the app is served.

The same refusal (status, body, headers) must come back whether the server runs under
``start()`` (the fast lane) or ``server.app`` is handed to an ASGI server; a layer's headers
must reach every response (JSON, event streams, FastAPI pages, refusals); the principal a
layer names owns the sessions it opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.http.chain import GuardRequest, Refusal
from nbmcp.principal import Principal
from tests.http import twoways
from tests.http.sse_client import events
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(60)

KEY = "chain-key-Zq81"
JSON = {"Content-Type": "application/json", "Accept": "application/json"}
SSE = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


class Counting:
    """A layer that counts what it judges and adds a header to every response."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def check(self, request: GuardRequest) -> Refusal | None:
        self.seen.append(request.path)
        request.add_header(b"x-chain", b"judged")
        return None


class WhoLayer:
    """Names the principal from a header, as an authentication layer does."""

    async def check(self, request: GuardRequest) -> Refusal | None:
        who = request.headers.get("x-who")
        request.principal = Principal(who) if who else None
        return None


def build(**kwargs: Any) -> MCPServer:
    return twoways.build("chain", **kwargs)


@pytest.fixture
def both() -> Iterator[list[str]]:
    """One keyed server served two ways: ``start()``, and ``server.app`` under plain uvicorn.

    The Action schema is closed too (``protect_schema``), so that every door refuses alike.
    """
    with twoways.served_two_ways(build(api_key=KEY, protect_schema=True)) as bases:
        yield bases


DOORS = [
    ("POST", "/mcp", rpc("tools/list", msg_id=1)),
    ("POST", "/tools/add", {"a": 1, "b": 2}),
    ("GET", "/openapi.json", None),
    ("GET", "/docs", None),
    ("GET", "/nowhere", None),
]


def _send(base: str, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.request(method, base + path, json=body, headers=headers, timeout=10)


@pytest.mark.parametrize(("method", "path", "body"), DOORS)
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": "wrong"}, 401), ({"Host": "evil.example"}, 421)],
    ids=["no-key", "wrong-key", "foreign-host"],
)
def test_refusals_are_the_same_under_start_and_server_app(
    both: list[str], method: str, path: str, body: Any, headers: dict[str, str], status: int
) -> None:
    lane, plain = both
    answers = [_send(base, method, path, body, {**JSON, **headers}) for base in (lane, plain)]
    for answer in answers:
        assert answer.status_code == status, (answer.url, answer.text)
        payload = answer.json()
        if path == "/mcp":  # the MCP door speaks JSON-RPC, even when refusing
            error = oracle.validate_answer("tools/list", payload, "2025-11-25", expect="error")
            assert error["code"] == -32600
        else:
            assert set(payload) == {"error", "type"}
            assert payload["type"] == ("misdirected" if status == 421 else "unauthorized")
        if status == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer ")
        assert KEY not in answer.text
    assert answers[0].json() == answers[1].json()
    assert answers[0].headers.get("www-authenticate") == answers[1].headers.get("www-authenticate")


def test_health_is_open_but_still_host_guarded(both: list[str]) -> None:
    for base in both:
        assert httpx.get(base + "/health", timeout=10).json()["status"] == "ok"
        refused = httpx.get(base + "/health", headers={"Host": "evil.example"}, timeout=10)
        assert refused.status_code == 421
        assert refused.json()["type"] == "misdirected"


def test_every_request_is_judged_once_and_carries_the_layers_headers() -> None:
    server = build()
    counting = Counting()
    server.guards.insert(0, counting)
    base = server.start().removesuffix("/mcp")
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            plain = client.post(
                "/mcp", json=rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
            )
            rest = client.post("/tools/add", json={"a": 2, "b": 3})
            health = client.get("/health")  # served by the FastAPI app, which has a chain of its own
            docs = client.get("/docs")
            with client.stream(
                "POST",
                "/mcp",
                headers=SSE,
                json=rpc(
                    "tools/call", {"name": "steps", "arguments": {"n": 2}, "_meta": {"progressToken": "p"}}
                ),
            ) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                assert stream.headers["x-chain"] == "judged"
                kinds = [e["data"].get("method", "answer") for e in events(stream) if e.get("data")]
        assert kinds == ["notifications/progress", "notifications/progress", "answer"]
        for answer in (plain, rest, health, docs):
            assert answer.status_code == 200, (answer.url, answer.text)
            assert answer.headers["x-chain"] == "judged", answer.url
        assert plain.json()["result"]["structuredContent"] == {"result": 5}
        assert rest.json() == {"result": 5}
        assert counting.seen == ["/mcp", "/tools/add", "/health", "/docs", "/mcp"]
    finally:
        server.stop()


def test_a_refusal_carries_headers_layers_added_before_it() -> None:
    server = build(api_key=KEY)
    server.guards.insert(0, Counting())
    base = server.start().removesuffix("/mcp")
    try:
        refused = httpx.post(base + "/mcp", json=rpc("ping", msg_id=1), timeout=10)
        assert refused.status_code == 401
        assert refused.headers["x-chain"] == "judged"
    finally:
        server.stop()


def test_a_session_belongs_to_the_principal_that_opened_it(serve: Any) -> None:
    server = build()
    server.guards.append(WhoLayer())
    url = serve(server)
    init = rpc(
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        msg_id=1,
    )
    with httpx.Client(timeout=10) as client:
        opened = client.post(url, json=init, headers={**JSON, "X-Who": "alice"})
        session = opened.headers["mcp-session-id"]
        own = {**JSON, "X-Who": "alice", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        other = {**own, "X-Who": "bob"}
        assert client.post(url, json=rpc("ping", msg_id=2), headers=other).status_code == 404
        assert client.delete(url, headers=other).status_code == 404
        stolen = client.get(url, headers={**other, "Accept": "text/event-stream"})
        assert stolen.status_code == 404
        ping = client.post(url, json=rpc("ping", msg_id=3), headers=own)
        assert oracle.validate_answer("ping", ping.json(), "2025-11-25", request_id=3, expect="result") == {}
        assert client.delete(url, headers=own).status_code == 200


@pytest.mark.parametrize("path", ["/mcp", "/tools/add"])
def test_a_body_over_the_limit_is_refused_declared_or_chunked(serve: Any, path: str) -> None:
    server = build()
    server.config.max_body_bytes = 1000
    base = serve(server).removesuffix("/mcp")
    big = b'{"a": 1, "b": 2, "pad": "' + b"x" * 2000 + b'"}'

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 500):
            yield big[i : i + 500]

    declared = httpx.post(base + path, content=big, headers=JSON, timeout=10)
    chunked = httpx.post(base + path, content=chunks(), headers=JSON, timeout=10)
    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
    assert "content-length" not in chunked.request.headers
    assert server.monitor.total_calls == 0
