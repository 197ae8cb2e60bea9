"""Calling a tool from Python: the same path as a client's call, from any thread or loop.

A mixin of :class:`~nbmcp.server.MCPServer`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbmcp.errors import ServerStateError
from nbmcp.protocol import Engine
from nbmcp.server.state import ServerState
from nbmcp.tools import Registry

if TYPE_CHECKING:
    from nbmcp.monitor import CallRecord

__all__ = ["Calling"]


class Calling:
    """``call_tool``, ``submit_call``, ``call_tool_sync`` (see :class:`~nbmcp.server.MCPServer`)."""

    registry: Registry
    engine: Engine
    state: ServerState

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, transport: str = "notebook"
    ) -> dict[str, Any]:
        """Call a tool as a client would and return the MCP ``tools/call`` result.

        The call takes the same path as one from ``/mcp`` or the REST facade: validated
        arguments, worker threads, ``tool_timeout``, error masking, and a call record in
        :attr:`monitor` (``transport`` says which door it came through).

        Raises:
            UnknownToolError: no tool of that name.
        """
        result, _ = await self.registry.call_local(name, dict(arguments or {}), transport=transport)
        return result

    def submit_call(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, transport: str = "notebook"
    ) -> concurrent.futures.Future[tuple[dict[str, Any], CallRecord]]:
        """Start a call from any thread; the future gives ``(result, record)``.

        While serving, the call runs on the server's loop; otherwise on a thread of its own.
        """
        loop = self.engine.loop if self.state is ServerState.RUNNING else None
        call = self.registry.call_local(name, dict(arguments or {}), transport=transport)
        if loop is not None and not loop.is_closed():
            return asyncio.run_coroutine_threadsafe(call, loop)
        future: concurrent.futures.Future[tuple[dict[str, Any], CallRecord]] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                call.close()
                return
            loop = asyncio.new_event_loop()
            try:
                future.set_result(loop.run_until_complete(call))
            except BaseException as exc:
                future.set_exception(exc)
            finally:  # a tool thread that outlived its timeout is not waited for
                loop.close()

        threading.Thread(target=run, name="nbmcp-call", daemon=True).start()
        return future

    def call_tool_sync(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """:meth:`call_tool` for code without an event loop (scripts, notebook cells).

        Raises:
            UnknownToolError: no tool of that name.
            ServerStateError: called from the server's own loop, where waiting would block it.
            TimeoutError: no answer within ``timeout`` seconds.
        """
        loop = self.engine.loop
        if loop is not None and asyncio._get_running_loop() is loop:
            raise ServerStateError("call_tool_sync() on the server's loop would block it: await call_tool()")
        return self.submit_call(name, arguments).result(timeout)[0]
