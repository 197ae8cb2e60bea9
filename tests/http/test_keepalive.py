"""Event streams through tunnels and proxies: keep-alive comments, no buffering, GET turned off.

A quiet stream (a long call with no progress) gets a ``: keepalive`` comment every
``sse_keepalive`` seconds, so a tunnel does not drop it; every SSE answer says
``X-Accel-Buffering: no``; with ``get_stream`` off (published through a cloudflared quick
tunnel, which holds GET streams) GET answers 405 at once and POST still streams.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import orjson

from nbmcp import Context, MCPServer
from tests.http.test_streaming import ACCEPT_BOTH, _call, _initialize
from tests.peers.oracle import validate_answer


def _quiet_server(release: threading.Event) -> MCPServer:
    server = MCPServer("quiet")
    server.config.sse_keepalive = 0.05

    @server.tool
    async def wait(ctx: Context) -> str:
        """Report once, then stay quiet until the test has seen keep-alive comments."""
        await ctx.report_progress(1, 2)
        for _ in range(400):  # bounded: 20 s at most
            if release.is_set():
                return "done"
            await asyncio.sleep(0.05)
        return "timed out"

    return server


def test_a_quiet_post_stream_gets_keepalive_comments(serve: Callable[..., str]) -> None:
    release = threading.Event()
    url = serve(_quiet_server(release))
    comments = 0
    lines: list[str] = []
    with httpx.Client(timeout=30) as client:
        headers = _initialize(client, url)
        with client.stream(
            "POST", url, json=_call("wait", {}, token=1), headers={**headers, **ACCEPT_BOTH}
        ) as answer:
            assert answer.headers["content-type"] == "text/event-stream"
            assert answer.headers["x-accel-buffering"] == "no"
            for line in answer.iter_lines():
                lines.append(line)
                if line == ": keepalive":
                    comments += 1
                    if comments == 2:
                        release.set()
    assert comments >= 2
    data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    final = orjson.loads(data[-1])
    validate_answer("tools/call", final, "2025-11-25", request_id=1, expect="result")
    assert final["result"]["content"][0]["text"] == "done"


def test_without_get_streams_get_is_405_and_post_still_streams(serve: Callable[..., str]) -> None:
    release = threading.Event()
    release.set()
    server = _quiet_server(release)
    server.config.get_stream = False
    url = serve(server)
    with httpx.Client(timeout=10) as client:
        headers = _initialize(client, url)
        got = client.get(url, headers={**headers, "Accept": "text/event-stream"})
        assert got.status_code == 405
        assert [m.strip() for m in got.headers["allow"].split(",")] == ["POST", "DELETE"]
        with client.stream(
            "POST", url, json=_call("wait", {}, token=2), headers={**headers, **ACCEPT_BOTH}
        ) as answer:
            assert answer.status_code == 200
            assert answer.headers["x-accel-buffering"] == "no"
            body = answer.read().decode()
    final = orjson.loads([line[6:] for line in body.splitlines() if line.startswith("data: ")][-1])
    assert final["result"]["content"][0]["text"] == "done"
    server.config.get_stream = True
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "GET", url, headers={**_initialize(client, url), "Accept": "text/event-stream"}
        ) as reopened,
    ):
        assert reopened.status_code == 200  # read per request: turned back on at once
