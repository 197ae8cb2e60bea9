"""User middleware (``MCPServer(middleware=[...])``): the last step of the guard chain, before the door.

An entry is ASGI middleware, Starlette's ``Middleware(cls, **options)`` or a class called as
``cls(app)``, or a plain ``async def mw(request, call_next)`` function (``request`` is a
Starlette ``Request``; ``call_next(request)`` returns a ``Response``). The first entry is the
outermost. They run after authentication and the other layers, so a refused request never
reaches them, and they see who is calling as ``request.state.principal`` (ASGI middleware:
``scope["state"]["principal"]``; ``None`` when the server asks for no credentials).

``call_next`` is a small adapter of its own, not Starlette's ``BaseHTTPMiddleware``, which
is known to break streaming: the downstream answer's body is handed on message by message
as the door sends it, so an event stream reaches the client as it is written, and the door
still hears the client disconnect. :class:`UserMiddleware` marks the scope, so the stack runs
once per request although a request under ``start()`` meets it twice (in front of the fast
lane and inside the FastAPI app). A middleware that raises gets the client a ``500`` error
in the door's language (JSON-RPC on ``/mcp``), without the traceback, which goes to the log.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson

from nbmcp.errors import InternalError, traceback_text
from nbmcp.http.asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from nbmcp.http.chain import door_of, principal_of, route_path
from nbmcp.protocol import jsonrpc

__all__ = ["UserMiddleware", "build_stack", "check_middleware"]

logger = logging.getLogger("nbmcp")

_RAN = "nbmcp.middleware"
_END: Any = object()
_QUEUE = 8  # body messages held between the door and a middleware that is slow to send them


def check_middleware(entries: Sequence[Any]) -> list[Any]:
    """``entries`` as a list, or :class:`TypeError` naming the first that is not middleware."""
    for entry in entries:
        if inspect.isclass(entry) or _is_starlette_middleware(entry):
            continue
        call = entry if inspect.isfunction(entry) or inspect.ismethod(entry) else type(entry).__call__
        if not callable(entry) or not inspect.iscoroutinefunction(call):
            raise TypeError(
                f"middleware {entry!r} is neither ASGI middleware (a class, or Middleware(cls, ...)) "
                "nor an 'async def mw(request, call_next)' function"
            )
    return list(entries)


def _is_starlette_middleware(entry: Any) -> bool:
    cls = type(entry)
    return cls.__name__ == "Middleware" and cls.__module__.startswith("starlette.")


def build_stack(app: ASGIApp, entries: Sequence[Any]) -> ASGIApp:
    """``app`` wrapped in ``entries``, the first outermost."""
    entry: Any
    for entry in reversed(entries):
        if _is_starlette_middleware(entry):
            app = entry.cls(app, *entry.args, **entry.kwargs)
        elif isinstance(entry, type):
            app = entry(app)
        else:
            app = CallNext(app, entry)
    return app


class UserMiddleware:
    """ASGI: run the user's middleware stack once per HTTP request, then ``app``.

    ``middleware`` is read on every request (the server's list); the stack is rebuilt only
    when its entries change, so a middleware object keeps its state between requests.
    """

    def __init__(
        self, app: ASGIApp, middleware: Sequence[Any], debug: Callable[[], bool] = lambda: False
    ) -> None:
        self.app = app
        self.middleware = middleware
        self.debug = debug
        """Whether a failure's answer carries its traceback (``ServerConfig.debug``, read per failure)."""
        self._entries: tuple[Any, ...] = ()
        self._stack: ASGIApp = app

    def _current(self) -> ASGIApp:
        entries = tuple(self.middleware)
        if len(entries) != len(self._entries) or any(
            a is not b for a, b in zip(entries, self._entries, strict=True)
        ):
            self._stack = build_stack(self.app, entries)
            self._entries = entries
        return self._stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(_RAN) or not self.middleware:
            await self.app(scope, receive, send)
            return
        scope[_RAN] = True
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["principal"] = principal_of(scope)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._current()(scope, receive, tracked)
        except Exception as exc:
            logger.error("nbmcp: middleware or door failed: %s", type(exc).__name__, exc_info=exc)
            if not started:  # else the response is cut short: the client sees a broken stream
                shown = traceback_text(exc) if self.debug() else None
                await send_json(send, 500, _error_body(route_path(scope), shown))


def _error_body(path: str, traceback: str | None = None) -> bytes:
    """The 500 in the door's language; the traceback only when given (``debug=True``)."""
    if door_of(path) == "mcp":
        data = {"traceback": traceback} if traceback is not None else None
        return jsonrpc.encode(jsonrpc.error_response(None, InternalError("Internal error", data)))
    body = {"error": "Internal server error", "type": "internal_error"}
    if traceback is not None:
        body["traceback"] = traceback
    return orjson.dumps(body)


class CallNext:
    """ASGI: call ``fn(request, call_next)`` and send the response it returns."""

    def __init__(self, app: ASGIApp, fn: Callable[..., Any]) -> None:
        self.app = app
        self.fn = fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import Request

        request = Request(scope, receive)
        downstream = _Downstream(self.app, scope, receive, request)
        try:
            response = await self.fn(request, downstream.call)
            if response is None or not callable(response):
                raise TypeError(f"middleware {self.fn!r} returned {response!r}, not a Response")
            await response(scope, receive, send)
        finally:
            await downstream.close()


class _Downstream:
    """The rest of the stack run as a task, its messages passed on through a small queue."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, request: Any) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.request = request
        self.queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE)
        self.task: asyncio.Task[None] | None = None
        self.error: Exception | None = None
        self.complete = False
        self._replayed = False

    async def _receive(self) -> Message:
        if not self._replayed:  # the middleware may have read the body: hand the door a copy
            self._replayed = True
            body = getattr(self.request, "_body", None)
            if body is not None:
                return {"type": "http.request", "body": body, "more_body": False}
            if getattr(self.request, "_stream_consumed", False):
                return {"type": "http.request", "body": b"", "more_body": False}
        return await self.receive()

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self.queue.put)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = exc
        await self.queue.put(_END)

    async def call(self, request: Any = None) -> Any:
        """``call_next``: run the rest of the stack until it starts its response."""
        if self.task is not None:
            raise RuntimeError("call_next() may be called once per request")
        self.task = asyncio.ensure_future(self._run())
        first = await self.queue.get()
        if first is _END:
            if self.error is not None:
                raise self.error
            raise RuntimeError("the application sent no response")
        headers = [(bytes(k), bytes(v)) for k, v in first.get("headers", ())]
        return _response_class()(int(first["status"]), headers, self._body())

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.queue.get()
            if message is _END:
                if self.error is not None:
                    raise self.error
                return
            if message["type"] != "http.response.body":
                continue
            body = message.get("body", b"")
            if body:
                yield body
            if not message.get("more_body", False):
                self.complete = True
                return

    async def close(self) -> None:
        """Wait for a door that answered in full (its background work); stop one left unread."""
        task = self.task
        if task is None:
            return
        if not self.complete:
            task.cancel()
        await asyncio.wait({task})  # its own cancellation is not ours: nothing is raised here
        if self.complete and self.error is not None:
            raise self.error  # after a full answer: logged by UserMiddleware


@functools.cache
def _response_class() -> Any:
    """A Starlette ``Response`` whose body is the downstream answer's, sent as it arrives."""
    from starlette.responses import Response

    class DownstreamResponse(Response):
        """What ``call_next`` returns: status and headers may be changed, ``body_iterator`` wrapped."""

        def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: AsyncIterator[bytes]):
            self.status_code = status
            self.raw_headers = headers
            self.body_iterator = body
            self.background = None

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return DownstreamResponse
