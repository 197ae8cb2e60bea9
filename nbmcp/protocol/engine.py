"""The MCP method table: one parsed JSON-RPC message in, one answer dict out.

This is the single exception-to-wire boundary: a :class:`ProtocolError` keeps its own code,
anything else is logged and answered with a generic -32603, so nothing a client sends can
take the server down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nbmcp.errors import (
    HeaderMismatch,
    InternalError,
    InvalidParams,
    MethodNotFound,
    ProtocolError,
    ResourceNotFound,
    traceback_text,
)
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.discovery import ServerInfo, discover_result, server_info_of
from nbmcp.protocol.exchange import Exchange, Pending, Send
from nbmcp.protocol.mrtr import InputRequired, Round
from nbmcp.protocol.provider import Provider
from nbmcp.protocol.session import LOG_LEVELS, Session, Sessions
from nbmcp.protocol.subscriptions import Listeners
from nbmcp.protocol.versions import LEGACY_ONLY_METHODS, META_VERSION_KEY, fit, negotiate

__all__ = ["Engine", "RequestObserver", "ServerInfo"]

logger = logging.getLogger("nbmcp")

_Handler = Callable[[dict[str, Any], Exchange], Awaitable[dict[str, Any]]]

RequestObserver = Callable[[dict[str, Any], Session], Callable[[dict[str, Any] | None], None]]
"""Called as a request starts with the message and its session; what it returns is called with
the answer (``None`` when an exception ends the request instead: the server stopping). Neither
may raise. :mod:`nbmcp.telemetry` sets one as :attr:`Engine.observer`."""

_USER_CODE = frozenset({"tools/call", "resources/read", "prompts/get", "completion/complete"})
"""Methods that run user code: they run as their own task so ``notifications/cancelled`` can stop them."""


def _outer_task_cancelled() -> bool:
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    return bool(cancelling()) if cancelling is not None else False


def _str_param(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise InvalidParams(f"params.{key} must be a string")
    return value


def _dict_param(params: dict[str, Any], key: str) -> dict[str, Any]:
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParams(f"params.{key} must be an object")
    return value


class Engine:
    """Answers MCP requests for one server, over whatever transport feeds it."""

    def __init__(self, provider: Provider, info: ServerInfo, sessions: Sessions | None = None) -> None:
        self.provider = provider
        self.info = info
        self.sessions = sessions if sessions is not None else Sessions()
        self.pending = Pending()
        self.listeners = Listeners()
        """2026-07-28 ``subscriptions/listen`` streams (the sessions' GET streams' successor)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.debug: Callable[[], bool] = lambda: False
        """Whether internal errors carry their traceback (``error.data.traceback``); read per error."""
        self.observer: RequestObserver | None = None
        """Watches every request (OpenTelemetry); ``None``, the default, costs one check per request."""
        self._running: dict[tuple[str | None, Any], asyncio.Task[dict[str, Any]]] = {}
        self._methods: dict[str, _Handler] = {
            "initialize": self._initialize,
            "ping": self._ping,
            "tools/list": self._tools_list,
            "tools/call": self._tools_call,
            "resources/list": self._resources_list,
            "resources/templates/list": self._templates_list,
            "resources/read": self._resources_read,
            "resources/subscribe": self._subscribe,
            "resources/unsubscribe": self._unsubscribe,
            "prompts/list": self._prompts_list,
            "prompts/get": self._prompts_get,
            "completion/complete": self._complete,
            "logging/setLevel": self._set_level,
        }
        self._modern_methods: dict[str, _Handler] = {
            name: handler for name, handler in self._methods.items() if name not in LEGACY_ONLY_METHODS
        }
        self._modern_methods["server/discover"] = self._discover
        """What 2026-07-28 requests may call: no handshake, ping or setLevel; discovery instead."""

    # -- entry points -------------------------------------------------------------------

    async def handle_request(
        self,
        msg: dict[str, Any],
        session: Session,
        headers: Mapping[str, str],
        send: Send | None,
        close: Callable[[], None] | None = None,
        *,
        round_: Round | None = None,
    ) -> dict[str, Any]:
        """Answer one request (a message with ``method`` and ``id``).

        A 2026-07-28 request comes with its session built from its envelope
        (``session.envelope``) and, for the methods that may ask the client for input, its
        ``round_`` (:mod:`nbmcp.protocol.mrtr`).
        """
        msg_id = msg["id"]
        method: str = msg["method"]
        observer = self.observer  # read once: another thread may turn it off meanwhile
        done = observer(msg, session) if observer is not None else None
        answer: dict[str, Any] | None = None  # what ``done`` sees: each return below sets it
        try:
            params = msg.get("params")
            if params is None:
                params = {}
            elif not isinstance(params, dict):
                raise InvalidParams("params must be an object")
            meta = params.get("_meta")
            modern = session.envelope is not None
            if not isinstance(meta, dict):
                meta = None
            elif not modern and META_VERSION_KEY in meta and meta[META_VERSION_KEY] != session.version:
                raise HeaderMismatch(
                    f"params._meta names protocol {str(meta[META_VERSION_KEY])[:40]!r} but the request "
                    f"speaks {session.version}"
                )
            handler = (self._modern_methods if modern else self._methods).get(method)
            if handler is None:
                raise MethodNotFound(f"Method not found: {method}")
            exchange = Exchange(session, msg_id, meta, headers, send, self.pending, close, round_=round_)
            if method in _USER_CODE and session.id is not None:
                # Only a session can name its requests in notifications/cancelled; without
                # one, ids from different clients could collide, so nothing is cancellable.
                result = await self._cancellable(handler, params, exchange)
            else:
                result = await handler(params, exchange)
            return (answer := jsonrpc.result_response(msg_id, result))
        except InputRequired as asked:
            return (answer := jsonrpc.result_response(msg_id, asked.result))
        except ProtocolError as exc:
            if isinstance(exc, ResourceNotFound) and session.envelope is not None:
                exc = InvalidParams(exc.message, exc.data)  # 2026-07-28 (SEP-2164): -32602, not -32002
            return (answer := jsonrpc.error_response(msg_id, exc))
        except asyncio.CancelledError:
            if _outer_task_cancelled():
                raise  # the server is stopping, not the client cancelling
            return (
                answer := jsonrpc.error_response(
                    msg_id, ProtocolError("Request cancelled", code=jsonrpc.REQUEST_CANCELLED)
                )
            )
        except Exception as exc:
            logger.exception("nbmcp: internal error while handling %s", method)
            data = {"traceback": traceback_text(exc)} if self.debug() else None
            return (answer := jsonrpc.error_response(msg_id, InternalError("Internal error", data)))
        finally:
            if done is not None:
                done(answer)

    def serves(self, method: str, *, modern: bool = False) -> bool:
        """Whether requests of ``method`` are answered (under 2026-07-28 when ``modern``)."""
        return method in (self._modern_methods if modern else self._methods)

    def handle_notification(self, msg: dict[str, Any], session: Session) -> None:
        """Act on a client notification (never answered)."""
        method = msg.get("method")
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        if method == "notifications/initialized":
            session.initialized = True
        elif method == "notifications/cancelled":
            request_id = params.get("requestId") if isinstance(params, dict) else None
            if isinstance(request_id, (str, int)):  # anything else is malformed: ignored, as the spec says
                task = self._running.get((session.id, request_id))
                if task is not None:
                    task.cancel()

    def handle_response(self, msg: dict[str, Any]) -> None:
        """Route a client's answer to the server request waiting for it."""
        if not self.pending.resolve(msg):
            logger.debug("nbmcp: response for unknown request id %r", msg.get("id"))

    # -- fan-out --------------------------------------------------------------------------

    def broadcast(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Queue a notification for every session (call on the server loop)."""
        message = jsonrpc.notification(method, params)
        for session in self.sessions:
            session.push(message)
        self.listeners.offer(method, params)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell the sessions subscribed to ``uri`` that it changed (call on the server loop)."""
        message = jsonrpc.notification("notifications/resources/updated", {"uri": uri})
        for session in self.sessions:
            if uri in session.subscriptions:
                session.push(message)
        self.listeners.offer("notifications/resources/updated", {"uri": uri})

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn`` on the server loop from any thread; a no-op when not serving."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    # -- internals ------------------------------------------------------------------------

    async def _cancellable(
        self, handler: _Handler, params: dict[str, Any], exchange: Exchange
    ) -> dict[str, Any]:
        key = (exchange.session.id, exchange.request_id)
        task = asyncio.ensure_future(handler(params, exchange))
        self._running[key] = task
        try:
            return await task
        finally:
            if self._running.get(key) is task:
                del self._running[key]

    async def _initialize(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        session = exchange.session
        session.version = negotiate(params.get("protocolVersion"))
        info = params.get("clientInfo")
        session.client_info = info if isinstance(info, dict) else {}
        caps = params.get("capabilities")
        session.client_capabilities = caps if isinstance(caps, dict) else {}
        result: dict[str, Any] = {
            "protocolVersion": session.version,
            "capabilities": fit(self.info.capabilities, session.version),
            "serverInfo": server_info_of(self.info, session.version),
        }
        if self.info.instructions:
            result["instructions"] = self.info.instructions
        return result

    async def _discover(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return discover_result(self.info, exchange.session.version)

    async def _ping(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return {}

    async def _tools_list(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return self.provider.list_tools(exchange.session.version)

    async def _tools_call(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        name = _str_param(params, "name")
        return await self.provider.call_tool(name, _dict_param(params, "arguments"), exchange)

    async def _resources_list(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return self.provider.list_resources(exchange.session.version)

    async def _templates_list(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return self.provider.list_resource_templates(exchange.session.version)

    async def _resources_read(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return await self.provider.read_resource(_str_param(params, "uri"), exchange)

    async def _subscribe(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        exchange.session.subscriptions.add(_str_param(params, "uri"))
        return {}

    async def _unsubscribe(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        exchange.session.subscriptions.discard(_str_param(params, "uri"))
        return {}

    async def _prompts_list(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        return self.provider.list_prompts(exchange.session.version)

    async def _prompts_get(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        name = _str_param(params, "name")
        return await self.provider.get_prompt(name, _dict_param(params, "arguments"), exchange)

    async def _complete(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        ref = _dict_param(params, "ref")
        argument = _dict_param(params, "argument")
        if not isinstance(argument.get("name"), str):
            raise InvalidParams("params.argument.name must be a string")
        values = await self.provider.complete(ref, argument, _dict_param(params, "context"))
        return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}

    async def _set_level(self, params: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        level = _str_param(params, "level")
        if level not in LOG_LEVELS:
            raise InvalidParams(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
        exchange.session.log_level = level
        return {}
