"""User middleware: ``MCPServer(middleware=[...])`` runs once per request, after authentication.

Both kinds are tried: ASGI middleware (``Middleware(cls, **options)``) and ``async def
mw(request, call_next)`` functions. They see the principal as ``request.state.principal``,
run exactly once whether the server runs under ``start()`` (where a request meets the stack
in front of the fast lane and again inside the FastAPI app) or as ``server.app``, never see a
refused request, may answer by themselves, pass event streams on as they are written (the
first progress event of a tool arrives while the tool still waits), and a middleware that
raises gets the client a 500 in the door's language, without a traceback, while the server
keeps serving.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nbmcp import MCPServer
from nbmcp.http.asgi import Message, Receive, Scope, Send
from tests.http import twoways
from tests.http.sse_client import events
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(60)

KEY = "mw-key-Tq40"
JSON = {"Content-Type": "application/json", "Accept": "application/json", "X-API-Key": KEY}
SSE = {**JSON, "Accept": "application/json, text/event-stream"}
BOOM = "kaboom-in-/srv/secret/mw.py"


class Counter:
    """ASGI middleware that records the path and principal of every request it sees."""

    def __init__(self, app: Any, seen: list[tuple[str, str | None]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            who = scope["state"]["principal"]
            self.seen.append((scope["path"], who.name if who else None))
            if scope["path"] == "/boom-asgi":
                raise RuntimeError(BOOM)

            async def marked(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-asgi-mw", b"seen")]
                await send(message)

            await self.app(scope, receive, marked)
            return
        await self.app(scope, receive, send)


class Tools:
    """What the function middleware records, and the events the streaming tool waits on."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.methods: list[str] = []
        self.release = threading.Event()
        self.finished = threading.Event()


def build(tools: Tools, asgi_seen: list[tuple[str, str | None]]) -> MCPServer:
    async def recorder(request: Request, call_next: Any) -> Response:
        who = request.state.principal
        tools.seen.append((request.url.path, who.name if who else None))
        if request.headers.get("x-block"):
            return JSONResponse({"error": "blocked by middleware", "type": "blocked"}, status_code=403)
        if request.headers.get("x-boom"):
            raise RuntimeError(BOOM)
        if request.url.path == "/mcp" and request.method == "POST":
            tools.methods.append((await request.json())["method"])  # reads the body the door reads too
        response = await call_next(request)
        response.headers["x-fn-mw"] = "seen"
        return response

    server = MCPServer(
        "mw", api_keys={"cursor": KEY}, middleware=[recorder, Middleware(Counter, seen=asgi_seen)]
    )

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool
    def slow(n: int) -> Iterator[str]:
        """Yield a first chunk, then wait for the test to release the rest."""
        try:
            yield "first"
            tools.release.wait(15)  # bounded: a buffered stream shows as `finished` below
            yield "second"
        finally:
            tools.finished.set()

    return server


@pytest.fixture
def both() -> Iterator[tuple[MCPServer, Tools, list[tuple[str, str | None]], list[str]]]:
    """One server with both kinds of middleware, served by ``start()`` and as ``server.app``."""
    tools, asgi_seen = Tools(), []
    server = build(tools, asgi_seen)
    with twoways.served_two_ways(server) as bases:
        try:
            yield server, tools, asgi_seen, bases
        finally:
            tools.release.set()  # a held tool lets go before the servers stop


def test_each_request_meets_the_middleware_once_and_it_sees_the_principal(both: Any) -> None:
    _, tools, asgi_seen, bases = both
    for base in bases:
        tools.seen.clear()
        asgi_seen.clear()
        tools.methods.clear()
        call = rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, msg_id=1)
        mcp = httpx.post(base + "/mcp", json=call, headers=JSON, timeout=10)
        rest = httpx.post(base + "/tools/add", json={"a": 2, "b": 3}, headers=JSON, timeout=10)
        health = httpx.get(base + "/health", timeout=10)  # open: no principal
        refused = httpx.post(
            base + "/tools/add", json={"a": 1, "b": 1}, headers={"X-API-Key": "no"}, timeout=10
        )
        assert refused.status_code == 401  # and no middleware saw it
        expected = [("/mcp", "cursor"), ("/tools/add", "cursor"), ("/health", None)]
        assert tools.seen == expected, base
        assert asgi_seen == expected, base
        assert tools.methods == ["tools/call"]
        result = oracle.validate_answer("tools/call", mcp.json(), "2025-11-25", request_id=1, expect="result")
        assert result["structuredContent"] == {"result": 5}
        assert rest.json() == {"result": 5}
        assert health.json()["status"] == "ok"
        for answer in (mcp, rest, health):
            assert answer.headers["x-fn-mw"] == "seen"
            assert answer.headers["x-asgi-mw"] == "seen"


def test_an_event_stream_passes_through_unbuffered(both: Any) -> None:
    _, tools, _, bases = both
    body = rpc(
        "tools/call", {"name": "slow", "arguments": {"n": 1}, "_meta": {"progressToken": "t"}}, msg_id=5
    )
    for base in bases:
        tools.release.clear()
        tools.finished.clear()
        with httpx.stream("POST", base + "/mcp", json=body, headers=SSE, timeout=30) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["x-fn-mw"] == "seen"
            assert stream.headers["x-asgi-mw"] == "seen"
            received = events(stream)
            first = next(received)["data"]
            assert first["method"] == "notifications/progress"
            assert first["params"]["message"] == "first"
            assert not tools.finished.is_set()  # the tool is still waiting: nothing was held back
            tools.release.set()
            rest = [e["data"] for e in received if e.get("data")]
        assert [m.get("method", "answer") for m in rest] == ["notifications/progress", "answer"]
        answer = oracle.validate_answer("tools/call", rest[-1], "2025-11-25", request_id=5, expect="result")
        assert answer["isError"] is False
        assert tools.finished.is_set()


def test_a_middleware_may_answer_by_itself(both: Any) -> None:
    server, _, asgi_seen, bases = both
    for base in bases:
        asgi_seen.clear()
        blocked = httpx.post(
            base + "/tools/add", json={"a": 1, "b": 2}, headers={**JSON, "X-Block": "1"}, timeout=10
        )
        assert blocked.status_code == 403
        assert blocked.json() == {"error": "blocked by middleware", "type": "blocked"}
        assert asgi_seen == []  # the inner middleware and the door were never reached
    assert server.monitor.total_calls == 0


@pytest.mark.parametrize("how", ["function", "asgi"])
def test_a_middleware_that_raises_gets_a_500_and_the_server_keeps_serving(both: Any, how: str) -> None:
    _, _, _, bases = both
    for base in bases:
        if how == "function":
            mcp = httpx.post(
                base + "/mcp", json=rpc("ping", msg_id=3), headers={**JSON, "X-Boom": "1"}, timeout=10
            )
            rest = httpx.post(
                base + "/tools/add", json={"a": 1, "b": 2}, headers={**JSON, "X-Boom": "1"}, timeout=10
            )
            assert mcp.status_code == 500
            error = oracle.validate_answer("ping", mcp.json(), "2025-11-25", expect="error")
            assert error["code"] == -32603
            failed = [mcp, rest]
        else:
            rest = httpx.get(base + "/boom-asgi", headers=JSON, timeout=10)
            failed = [rest]
        assert rest.status_code == 500
        assert rest.json() == {"error": "Internal server error", "type": "internal_error"}
        for answer in failed:
            assert "kaboom" not in answer.text and "Traceback" not in answer.text and ".py" not in answer.text
        ping = httpx.post(base + "/mcp", json=rpc("ping", msg_id=4), headers=JSON, timeout=10)
        assert oracle.validate_answer("ping", ping.json(), "2025-11-25", request_id=4, expect="result") == {}


def test_what_is_not_middleware_is_refused_in_one_line() -> None:
    def sync(request: Any, call_next: Any) -> Any:
        return call_next(request)

    for bad in (sync, "not middleware", 42):
        with pytest.raises(TypeError, match="is neither ASGI middleware") as caught:
            MCPServer("bad", middleware=[bad])
        assert "\n" not in str(caught.value)
