"""Streamable HTTP over a real socket: SSE answers, sessions, resumption, the standalone stream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx

from nbmcp import Context, MCPServer
from tests.http.sse_client import events
from tests.peers.oracle import validate_answer, validate_server_message

ACCEPT_BOTH = {"Accept": "application/json, text/event-stream"}


def _server() -> MCPServer:
    server = MCPServer("stream")

    @server.tool
    async def count(n: int, ctx: Context) -> str:
        """Count with progress and logs."""
        for i in range(1, n + 1):
            await ctx.report_progress(i, n, f"step {i}")
            await ctx.info(f"did {i}")
        return f"counted {n}"

    @server.tool
    async def hang_up(ctx: Context) -> str:
        """Drop the stream, then answer."""
        ctx.close_stream()
        await asyncio.sleep(0.1)
        return "answered after reconnect"

    @server.tool
    def plain(x: int) -> int:
        return x * 2

    return server


def _initialize(client: httpx.Client, url: str) -> dict[str, str]:
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    answer = client.post(url, json=body, headers=ACCEPT_BOTH)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    validate_answer("initialize", answer.json(), "2025-11-25", request_id=0, expect="result")
    headers = {"Mcp-Session-Id": answer.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
    note = client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert note.status_code == 202 and note.content == b""
    return headers


def _call(name: str, arguments: dict[str, Any], msg_id: int = 1, token: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params}


def test_progress_and_logs_stream_before_the_answer(serve: Callable[..., str]) -> None:
    url = serve(_server())
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)
        client.post(
            url,
            json={"jsonrpc": "2.0", "id": 9, "method": "logging/setLevel", "params": {"level": "info"}},
            headers=headers,
        )
        with client.stream(
            "POST", url, json=_call("count", {"n": 2}, token=7), headers={**headers, **ACCEPT_BOTH}
        ) as r:
            assert r.headers["content-type"] == "text/event-stream"
            got = list(events(r))
    assert got[0]["data"] is None and got[0]["retry"] and got[0]["id"], "priming event first"
    for event in got[1:-1]:
        validate_server_message(event["data"], "2025-11-25")
    validate_answer("tools/call", got[-1]["data"], "2025-11-25", request_id=1, expect="result")
    methods = [e["data"].get("method", "answer") for e in got[1:]]
    assert methods == ["notifications/progress", "notifications/message"] * 2 + ["answer"]
    assert got[1]["data"]["params"] == {"progressToken": 7, "progress": 1, "total": 2, "message": "step 1"}
    assert got[-1]["data"]["result"]["content"][0]["text"] == "counted 2"
    assert all(e.get("id") for e in got), "every event can be resumed from"


def test_json_when_the_call_cannot_stream(serve: Callable[..., str]) -> None:
    url = serve(_server())
    answer = httpx.post(url, json=_call("plain", {"x": 4}), headers=ACCEPT_BOTH, timeout=10)
    assert answer.headers["content-type"] == "application/json"
    validate_answer("tools/call", answer.json(), "2025-11-25", request_id=1, expect="result")
    assert answer.json()["result"]["structuredContent"] == {"result": 8}


def test_sse_only_clients_get_sse(serve: Callable[..., str]) -> None:
    url = serve(_server())
    with httpx.stream(
        "POST", url, json=_call("plain", {"x": 1}), headers={"Accept": "text/event-stream"}, timeout=10
    ) as r:
        assert r.headers["content-type"] == "text/event-stream"
        assert list(events(r))[-1]["data"]["result"]["structuredContent"] == {"result": 2}


def test_a_dropped_stream_resumes_with_last_event_id(serve: Callable[..., str]) -> None:
    url = serve(_server())
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)
        with client.stream(
            "POST", url, json=_call("hang_up", {}, msg_id=3), headers={**headers, **ACCEPT_BOTH}
        ) as r:
            first = list(events(r))
        assert all(e["data"] is None for e in first), "the stream closed before the answer"
        resume = {**headers, "Accept": "text/event-stream", "Last-Event-ID": first[-1]["id"]}
        with client.stream("GET", url, headers=resume) as r:
            assert r.status_code == 200
            rest = list(events(r))
    validate_answer("tools/call", rest[-1]["data"], "2025-11-25", request_id=3, expect="result")
    assert rest[-1]["data"]["result"]["content"][0]["text"] == "answered after reconnect"


def test_unknown_last_event_id_is_404(serve: Callable[..., str]) -> None:
    url = serve(_server())
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)
        r = client.get(url, headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": "nope_1"})
        assert r.status_code == 404


def test_standalone_stream_carries_list_changed(serve: Callable[..., str]) -> None:
    server = _server()
    url = serve(server)
    received: list[dict[str, Any]] = []
    opened = threading.Event()
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)

        def listen() -> None:
            with client.stream("GET", url, headers={**headers, "Accept": "text/event-stream"}) as r:
                assert r.status_code == 200
                for event in events(r):
                    opened.set()
                    if event["data"] is not None:
                        received.append(event["data"])
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(5)
        second = client.get(url, headers={**headers, "Accept": "text/event-stream"})
        assert second.status_code == 409, "one standalone stream per session"
        server.remove_tool("plain")
        listener.join(5)
    assert received == [{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}]
    validate_server_message(received[0], "2025-11-25")


def test_delete_ends_the_session(serve: Callable[..., str]) -> None:
    url = serve(_server())
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)
        assert client.delete(url, headers=headers).status_code == 200
        after = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
        assert after.status_code == 404
        assert client.delete(url, headers=headers).status_code == 404


def test_stateless_mode_issues_no_session(serve: Callable[..., str]) -> None:
    server = _server()
    server.config.stateless = True
    url = serve(server)
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    answer = httpx.post(url, json=body, headers=ACCEPT_BOTH, timeout=10)
    assert answer.status_code == 200 and "mcp-session-id" not in answer.headers
    validate_answer("initialize", answer.json(), "2025-06-18", request_id=0, expect="result")
    assert answer.json()["result"]["protocolVersion"] == "2025-06-18"
    assert httpx.get(url, headers={"Accept": "text/event-stream"}, timeout=10).status_code == 405
    assert httpx.post(url, json=_call("plain", {"x": 2}), timeout=10).json()["result"][
        "structuredContent"
    ] == {"result": 4}
