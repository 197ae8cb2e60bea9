"""One request in flight: who sent it, and the way back to that client while it runs.

A handler (a tool, through its ``Context``) uses the exchange to send progress, log
messages and server-to-client requests (sampling, elicitation) related to the request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from nbmcp.errors import MissingCapability, ProtocolError
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.versions import SERVER_REQUEST_SINCE, has_field, since

if TYPE_CHECKING:
    from nbmcp.protocol.mrtr import Round
    from nbmcp.protocol.session import Session

__all__ = ["Exchange", "Pending", "Send"]

Send = Callable[[dict[str, Any]], Awaitable[None]]
"""Writes one message to the stream that answers this request."""

_ids = itertools.count(1)


def _check_capability(session: Session, method: str) -> None:
    needed = SERVER_REQUEST_SINCE.get(method)
    if needed is None:
        return
    capability, first = needed
    if not since(session.version, first):
        raise MissingCapability(f"{method} does not exist in protocol {session.version} (since {first})")
    if capability not in session.client_capabilities:
        raise MissingCapability(
            f"the client did not declare the {capability!r} capability, so the server cannot send {method}",
            {"requiredCapabilities": {capability: {}}},
        )


class Pending:
    """Server-to-client requests waiting for the client's answer, by request id."""

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def open(self) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Reserve a fresh id and the future its answer resolves."""
        msg_id = f"nbmcp-{next(_ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._futures[msg_id] = future
        return msg_id, future

    def close(self, msg_id: str) -> None:
        """Forget an id (answered, timed out or cancelled)."""
        self._futures.pop(msg_id, None)

    def resolve(self, message: dict[str, Any]) -> bool:
        """Hand a client's response to whoever waits for it; ``False`` if nobody does."""
        future = self._futures.pop(str(message.get("id")), None)
        if future is None or future.done():
            return False
        future.set_result(message)
        return True


class Exchange:
    """The context of one client request as it is handled."""

    __slots__ = (
        "_close",
        "_pending",
        "_send",
        "headers",
        "loop",
        "meta",
        "record",
        "request_id",
        "round",
        "session",
        "transport",
    )

    def __init__(
        self,
        session: Session,
        request_id: Any,
        meta: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        send: Send | None,
        pending: Pending,
        close: Callable[[], None] | None = None,
        *,
        transport: str = "mcp",
        round_: Round | None = None,
    ) -> None:
        self.session = session
        self.request_id = request_id
        self.meta = meta or {}
        self.headers = headers
        self._send = send
        self._pending = pending
        self._close = close
        self.loop = asyncio.get_running_loop()
        self.transport = transport
        """The door the request came through: ``"mcp"``, ``"rest"`` or ``"notebook"``."""
        self.record: Any = None
        """The call record a tool call opened for this request (set by the registry)."""
        self.round = round_
        """The input-required round of a 2026-07-28 request (``None``: asks go over SSE)."""

    def next_key(self, kind: str) -> str | None:
        """The key of an ask that names none (2026-07-28 only; ``None`` otherwise)."""
        return self.round.next_key(kind) if self.round is not None else None

    @property
    def progress_token(self) -> str | int | None:
        """The token the client asked progress under, if it did."""
        token = self.meta.get("progressToken")
        return token if isinstance(token, (str, int)) else None

    @property
    def can_stream(self) -> bool:
        """Whether messages sent now reach the client before the final answer."""
        return self._send is not None

    def close_stream(self) -> bool:
        """Drop the client's connection for this request but keep its events for resumption.

        The client reconnects (``GET`` with ``Last-Event-ID``) and reads the rest, answer
        included. Returns ``False`` when the request has no resumable stream.
        """
        if self._close is None or self.session.id is None or self.round is not None:
            return False
        self._close()
        return True

    async def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification related to this request (dropped when nothing can carry it)."""
        message = jsonrpc.notification(method, params)
        if self._send is not None:
            await self._send(message)
        elif self.session.stream_open:
            self.session.push(message)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress, if the client gave a progress token."""
        token = self.progress_token
        if token is None:
            return
        params: dict[str, Any] = {"progressToken": token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None and has_field(self.session.version, "message"):
            params["message"] = message
        await self.notify("notifications/progress", params)

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send a ``notifications/message`` if it passes the client's log level."""
        if not self.session.wants_log(level):
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self.notify("notifications/message", params)

    async def request(
        self, method: str, params: dict[str, Any], timeout: float = 300.0, *, key: str | None = None
    ) -> dict[str, Any]:
        """Ask the client something (``sampling/createMessage``, ``elicitation/create``, ...).

        Under 2026-07-28 the question joins the request's input-required round under ``key``
        (:mod:`nbmcp.protocol.mrtr`); before it, it goes to the client over SSE now.

        Raises:
            ProtocolError: the client cannot be reached, answered with an error, or took
                longer than ``timeout`` seconds.
        """
        try:
            _check_capability(self.session, method)
        except MissingCapability as exc:
            if self.round is not None:
                self.round.refuse(exc)  # under 2026-07-28 the request's error, not the tool's
            raise
        if self.round is not None:
            return await self.round.ask(key or self.round.next_key(method.split("/")[0]), method, params)
        if self._send is None and not self.session.stream_open:
            raise ProtocolError(
                f"cannot send {method}: the client has no open stream for server requests "
                "(it must accept text/event-stream)"
            )
        msg_id, future = self._pending.open()
        message = jsonrpc.request(msg_id, method, params)
        try:
            if self._send is not None:
                await self._send(message)
            else:
                self.session.push(message)
            reply = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise ProtocolError(f"the client did not answer {method} within {timeout:g} s") from None
        finally:
            self._pending.close(msg_id)
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            raise ProtocolError(
                str(err.get("message", "client error")), err.get("data"), code=int(err.get("code", -32603))
            )
        result = reply.get("result")
        return result if isinstance(result, dict) else {}
