"""The official MCP SDK client calls a tool through each double: TLS, keep-alive, event streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from nbmcp import MCPServer
from nbmcp.config import DEFAULT_ALLOWED_HOSTS
from nbmcp.tunnel import open_tunnel
from tests.tunnel.kit import PUBLIC_NAMES, TunnelKit


def _run(fn: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(60):
            await fn()

    anyio.run(bounded)


@pytest.mark.parametrize("provider", ["ngrok", "cloudflared"])
def test_the_sdk_calls_a_tool_through_the_tunnel(provider: str, provider_env: TunnelKit) -> None:
    server = MCPServer("through", allowed_hosts=[*DEFAULT_ALLOWED_HOSTS, *PUBLIC_NAMES])

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.start(port=0)
    assert server.port is not None
    tunnel = open_tunnel(server.port, provider)
    server.config.forwarded_header = tunnel.forwarded_header
    server.config.get_stream = not tunnel.holds_get_streams  # what publishing does
    results: list[int] = []

    async def call() -> None:
        async with (
            httpx2.AsyncClient(verify=provider_env.ssl_context(), timeout=15.0, trust_env=False) as http,
            streamable_http_client(tunnel.public_url + "/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for a in range(3):
                result = await session.call_tool("add", {"a": a, "b": 40})
                assert not result.is_error, result
                results.append(int((result.structured_content or {})["result"]))

    try:
        _run(call)
    finally:
        tunnel.close()
        server.stop()
    assert results == [40, 41, 42]
