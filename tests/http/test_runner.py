"""The background server: real ports, clean stops, clear errors, no leaks."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

import httpx
import pytest

from nbmcp import MCPServer, PortInUseError, ServerStateError
from nbmcp.server import ServerState
from tests.peers import oracle


def _server() -> MCPServer:
    server = MCPServer("runner")

    @server.tool
    def echo(text: str) -> str:
        return text

    return server


def _call(url: str) -> httpx.Response:
    """``echo("hi")`` in a sessionless POST; a 200 answer is judged by the oracle."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}},
    }
    response = httpx.post(url, json=body, timeout=5)
    if response.status_code == 200:
        answer = response.json()
        version = oracle.sessionless_version("tools/call", answer=answer)
        oracle.validate_answer("tools/call", answer, version, request_id=1, expect="result")
    return response


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_returns_a_bound_url_and_stop_frees_the_port(serve: Callable[..., str]) -> None:
    server = _server()
    url = serve(server)
    assert url == server.url and url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
    assert server.state is ServerState.RUNNING
    assert _call(url).json()["result"]["content"][0]["text"] == "hi"
    port = server.port
    assert port is not None
    server.stop()
    assert server.url is None and server.state is ServerState.STOPPED
    assert _port_free(port)
    server.stop()  # idempotent


def test_start_is_idempotent_and_refuses_to_move(serve: Callable[..., str]) -> None:
    server = _server()
    url = serve(server)
    assert server.start() == url
    with pytest.raises(ServerStateError, match="already running"):
        server.start(port=1)


def test_port_in_use_is_a_clear_error(serve: Callable[..., str]) -> None:
    first = _server()
    serve(first)
    with pytest.raises(PortInUseError, match=str(first.port)):
        _server().start(port=first.port)
    assert first.url is not None and _call(first.url).status_code == 200


def test_restart_on_the_same_port_succeeds(serve: Callable[..., str]) -> None:
    """No TIME_WAIT refusal after a served call (how fast it rebinds is bench/'s business)."""
    server = _server()
    serve(server)
    port = server.port
    _call(str(server.url))
    server.stop()
    url = server.start(port=port)
    assert server.port == port
    assert _call(url).status_code == 200


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_hundred_start_stop_cycles_leak_nothing() -> None:
    server = _server()
    url = server.start()
    _call(url)
    server.stop()
    threads, fds = threading.active_count(), _fds()
    for _ in range(100):
        url = server.start()
        assert _call(url).status_code == 200
        server.stop()
    assert threading.active_count() <= threads
    assert _fds() <= fds + 2


def test_health_needs_no_key_and_reports_counts(serve: Callable[..., str]) -> None:
    server = MCPServer("h", api_key="k")
    url = serve(server)
    health = httpx.get(url.replace("/mcp", "/health"), timeout=5)
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "name": "h",
        "tools": 0,
        "resources": 0,
        "prompts": 0,
        "sessions": 0,
    }


def test_the_app_mounts_in_any_asgi_host() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    host = FastAPI()
    host.mount("/agent", _server().app)
    with TestClient(host, base_url="http://127.0.0.1") as client:
        body = {"jsonrpc": "2.0", "id": 5, "method": "tools/list"}
        answer = client.post("/agent/mcp", json=body)
        assert answer.status_code == 200
        version = oracle.sessionless_version("tools/list", answer=answer.json())
        result = oracle.validate_answer("tools/list", answer.json(), version, request_id=5)
        assert result["tools"][0]["name"] == "echo"
        assert client.get("/agent/health").status_code == 200


def test_context_manager_starts_and_stops() -> None:
    with _server() as server:
        assert server.url is not None
        assert _call(server.url).status_code == 200
    assert server.url is None
