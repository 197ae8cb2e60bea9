"""An official MCP SDK client session kept open across a synchronous test (a thread runs its loop)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
from anyio.from_thread import start_blocking_portal
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

Call = Callable[[str, dict[str, Any]], Any]


@contextlib.contextmanager
def sdk_session(url: str, name: str, version: str = "1.0") -> Iterator[Call]:
    """A session of the SDK's client named ``name`` (its ``clientInfo``), open for the block;
    yields ``call(tool, arguments)``, which returns the SDK's ``CallToolResult``."""

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[ClientSession]:
        info = types.Implementation(name=name, version=version)
        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, client_info=info) as session,
        ):
            with anyio.fail_after(30):
                await session.initialize()
            yield session

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(opened()) as session:

        def call(tool: str, arguments: dict[str, Any]) -> Any:
            async def bounded() -> Any:
                with anyio.fail_after(30):
                    return await session.call_tool(tool, arguments)

            return portal.call(bounded)

        yield call
