"""One call path: MCP, the REST facade and ``server.call_tool`` all open one call record each.

Every record has an id, a start and an end, the door it came through (``transport``), the
client, the session and the principal; a call in flight is visible in ``monitor.running``.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.errors import ServerStateError, UnknownToolError
from nbmcp.monitor import CallRecord
from tests.peers import oracle
from tests.peers.peerkit import rpc

pytestmark = pytest.mark.timeout(60)

KEY = "call-path-key-Pw3"


def build(**kwargs: Any) -> tuple[MCPServer, threading.Event, threading.Event]:
    server = MCPServer("calls", **kwargs)
    entered, release = threading.Event(), threading.Event()

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool
    def hold() -> str:
        """Wait until the test lets go."""
        entered.set()
        release.wait(10)
        return "released"

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise ValueError("no luck")

    return server, entered, release


def test_call_tool_sync_without_serving_records_a_notebook_call() -> None:
    server, _, _ = build()
    result = server.call_tool_sync("add", {"a": 2, "b": 3}, timeout=10)
    assert result["structuredContent"] == {"result": 5}
    assert result["isError"] is False
    (record,) = server.monitor.journal
    assert isinstance(record, CallRecord)
    assert (record.tool, record.transport, record.ok) == ("add", "notebook", True)
    assert record.client is None and record.principal is None and record.session_id is None
    assert record.duration is not None and record.ended_at is not None
    assert record.ended_at >= record.started_at
    assert server.monitor.find(record.id) is record
    shown = record.to_dict()
    assert datetime.fromisoformat(shown["started_at"]).utcoffset() is not None  # ISO 8601 with a zone
    assert shown["duration_ms"] == pytest.approx(record.duration * 1000)


def test_await_call_tool_and_unknown_tools() -> None:
    server, _, _ = build()

    async def main() -> dict[str, Any]:
        return await server.call_tool("fail")

    failed = asyncio.run(main())
    assert failed["isError"] is True
    assert server.monitor.journal[-1].error == "ValueError: no luck"
    assert server.monitor.journal[-1].ok is False
    with pytest.raises(UnknownToolError):
        server.call_tool_sync("nope", timeout=10)
    with pytest.raises(LookupError):  # an UnknownToolError is a LookupError too
        server.call_tool_sync("nope", timeout=10)


def test_records_of_every_door_are_distinct_and_say_who_called() -> None:
    server, _, _ = build(api_key=KEY)
    url = server.start()
    base = url.removesuffix("/mcp")
    headers = {"X-API-Key": KEY, "Accept": "application/json, text/event-stream"}
    init = rpc(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "9.1"},
        },
        msg_id=1,
    )
    try:
        with httpx.Client(timeout=10, headers=headers) as client:
            opened = client.post(url, json=init)
            session = opened.headers["mcp-session-id"]
            client.post(url, json=rpc("notifications/initialized"), headers={"Mcp-Session-Id": session})
            answer = client.post(
                url,
                json=rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, msg_id=2),
                headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"},
            )
            oracle.validate_answer("tools/call", answer.json(), "2025-11-25", request_id=2, expect="result")
            assert client.post(f"{base}/tools/add", json={"a": 2, "b": 2}).json() == {"result": 4}
        assert server.call_tool_sync("add", {"a": 3, "b": 3}, timeout=10)["structuredContent"] == {
            "result": 6
        }
    finally:
        server.stop()
    mcp, rest, notebook = list(server.monitor.journal)
    assert [r.transport for r in (mcp, rest, notebook)] == ["mcp", "rest", "notebook"]
    assert len({mcp.id, rest.id, notebook.id}) == 3
    assert mcp.client == {"name": "probe", "version": "9.1"} and mcp.session_id == session
    assert (mcp.principal, rest.principal) == ("default", "default")
    assert rest.client is None and rest.session_id is None
    assert notebook.principal is None  # called in-process: no credentials asked
    assert [r.arguments for r in (mcp, rest, notebook)] == [
        {"a": 1, "b": 1},
        {"a": 2, "b": 2},
        {"a": 3, "b": 3},
    ]


def test_a_call_in_flight_is_visible_and_listeners_hear_start_and_end() -> None:
    server, entered, release = build()
    heard: list[tuple[str, bool]] = []
    server.monitor.subscribe(lambda r: heard.append((r.tool, r.running)), starts=True)
    ends: list[str] = []
    server.monitor.subscribe(lambda r: ends.append(r.id))
    server.start()
    try:
        future = server.submit_call("hold")
        assert entered.wait(10)
        (running,) = server.monitor.running.values()
        assert running.tool == "hold" and running.running and running.ok is None
        assert server.monitor.find(running.id) is running
        release.set()
        result, record = future.result(10)
    finally:
        release.set()
        server.stop()
    assert result["content"][0]["text"] == "released"
    assert record is running and not record.running and record.ok is True
    assert server.monitor.running == {}
    assert heard == [("hold", True), ("hold", False)]
    assert ends == [record.id]


def test_call_tool_sync_refuses_to_block_the_server_loop() -> None:
    server, _, _ = build()
    server.start()
    try:
        loop = server.engine.loop
        assert loop is not None

        async def inside() -> str:
            try:
                server.call_tool_sync("add", {"a": 1, "b": 2})
            except ServerStateError as exc:
                return str(exc)
            return "no error"

        said = asyncio.run_coroutine_threadsafe(inside(), loop).result(10)
        assert "await call_tool()" in said
    finally:
        server.stop()


def test_tool_timeout_has_one_home_read_at_call_time() -> None:
    server, _, release = build(tool_timeout=None)
    assert server.config.tool_timeout is None
    server.config.tool_timeout = 0.2  # changed while built: the next call obeys it
    try:
        result = server.call_tool_sync("hold", timeout=10)
    finally:
        release.set()
    assert result["isError"] is True
    assert result["content"][0]["text"] == "Tool 'hold' timed out after 0.2 s"
    assert MCPServer("x", tool_timeout=0).config.tool_timeout is None  # 0 means no limit
