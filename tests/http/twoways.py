"""One test server with the usual two tools, served the two ways a user can serve it.

``start()`` puts the guard chain in front of the fast lane; ``server.app`` handed to a plain
ASGI server is the FastAPI app with its own copy of the chain. Tests that must hold for both
run against both base URLs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from nbmcp import Context, MCPServer
from nbmcp.http.runner import BackgroundServer

__all__ = ["build", "served_two_ways"]


def build(name: str = "twoways", **kwargs: Any) -> MCPServer:
    """A server with ``add(a, b)`` and ``steps(n, ctx)`` (which reports progress n times)."""
    server = MCPServer(name, **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool
    async def steps(n: int, ctx: Context) -> str:
        """Report progress n times."""
        for i in range(n):
            await ctx.report_progress(i + 1, n)
        return "done"

    return server


@contextlib.contextmanager
def served_two_ways(server: MCPServer) -> Iterator[list[str]]:
    """Base URLs (no ``/mcp``) of ``server`` under ``start()`` and as ``server.app``; both stopped after."""
    lane = server.start()
    plain = BackgroundServer(server.app, "127.0.0.1", 0)
    try:
        plain.start()
        yield [lane.removesuffix("/mcp"), f"http://127.0.0.1:{plain.port}"]
    finally:
        plain.stop()
        server.stop()
