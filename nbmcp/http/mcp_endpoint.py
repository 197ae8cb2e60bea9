"""``/mcp``: the Streamable HTTP transport, as a raw ASGI handler.

POST carries client messages: notifications and responses get 202; requests get one JSON
answer, or an SSE stream when the client accepts it and the call may send messages first
(progress, logs, sampling, elicitation). GET opens the session's standalone stream or resumes
one with ``Last-Event-ID``; DELETE ends a session. A plain POST with only
``Content-Type: application/json`` (curl, ChatGPT) and no session is answered as JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from nbmcp.config import ServerConfig
from nbmcp.errors import InvalidRequest, ParseError, ProtocolError
from nbmcp.http.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    read_body,
    send_empty,
    send_json,
    wait_disconnect,
)
from nbmcp.http.auth import missing_scopes, scope_refusal
from nbmcp.http.chain import headers_of, principal_of
from nbmcp.http.concurrency import CALLS_FULL, STREAMS_FULL, CallSlots, close_stream, open_stream
from nbmcp.http.limits import caller_key
from nbmcp.http.modern_post import ModernPost, is_modern
from nbmcp.http.sse import KEEPALIVE, SSE_HEADERS, StreamLog, frame, logs_of, new_stream, parse_event_id
from nbmcp.principal import Principal
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.engine import Engine
from nbmcp.protocol.session import Session
from nbmcp.protocol.versions import (
    BATCH_VERSIONS,
    DEFAULT_HEADERLESS_VERSION,
    LATEST_VERSION,
)

__all__ = ["McpEndpoint"]

_ALLOW = [(b"allow", b"GET, POST, DELETE")]
_ALLOW_NO_GET = [(b"allow", b"POST, DELETE")]
_RETRY_MS = 1000


def _rpc_error(exc: ProtocolError, msg_id: Any = None) -> dict[str, Any]:
    return jsonrpc.error_response(msg_id, exc)


class McpEndpoint:
    """The ``/mcp`` ASGI app for one :class:`Engine`.

    It trusts the guard chain in front of it (:mod:`nbmcp.http.chain`) for Host, Origin and
    credentials, and reads the headers and principal the chain left in the scope.
    """

    def __init__(self, engine: Engine, config: ServerConfig) -> None:
        self.engine = engine
        self.config = config
        self.calls = CallSlots(config)
        """``tools/call`` requests in progress per caller (``max_calls_per_principal``)."""
        self._closing: asyncio.Event | None = None
        self.modern = ModernPost(engine, config, self.calls, self._scopes_lacking, self.closing)
        """2026-07-28 requests: no session, each one self-contained (:mod:`nbmcp.http.modern_post`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if self.engine.loop is None:
            self.engine.loop = asyncio.get_running_loop()
        headers = headers_of(scope)
        method = scope["method"]
        if method == "POST":
            await self._post(receive, send, headers, principal_of(scope), scope)
        elif is_modern(headers, None):  # 2026-07-28 has no GET stream and no session to DELETE
            await send_empty(send, 405, [(b"allow", b"POST")])
        elif method == "GET":
            if not self.config.get_stream:  # published through a tunnel that holds GET streams
                await send_empty(send, 405, _ALLOW_NO_GET)
                return
            await self._get(receive, send, headers, principal_of(scope))
        elif method == "DELETE":
            await self._delete(send, headers, principal_of(scope))
        else:
            await send_empty(send, 405, _ALLOW)

    def close_streams(self) -> None:
        """End open SSE streams so the server can shut down (call on the server loop)."""
        self.closing().set()

    def closing(self) -> asyncio.Event:
        """Set when the server stops: open streams end (made on first use, on the server loop)."""
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing

    # -- POST -----------------------------------------------------------------------------

    async def _post(
        self,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        principal: Principal | None,
        scope: Scope | None = None,
    ) -> None:
        try:
            body = await read_body(receive, self.config.max_body_bytes)
        except BodyTooLarge:
            await send_json(send, 413, _rpc_error(InvalidRequest("Request body too large")))
            return
        ctype = headers.get("content-type", "application/json")
        if "json" not in ctype and ctype.strip():
            await send_json(send, 415, _rpc_error(InvalidRequest("Content-Type must be application/json")))
            return
        try:
            payload = jsonrpc.decode(body)
        except ParseError as exc:
            await send_json(send, 400, _rpc_error(exc))
            return
        if is_modern(headers, payload):
            await self.modern.post(receive, send, scope or {"headers": []}, headers, payload, principal)
            return
        batch = isinstance(payload, list)
        messages: list[Any] = payload if batch else [payload]
        if batch and not messages:
            await send_json(send, 400, _rpc_error(InvalidRequest("Invalid Request: empty batch")))
            return
        is_init = any(isinstance(m, dict) and m.get("method") == "initialize" for m in messages)
        session = self._session_for(headers, is_init, batch, principal)
        if isinstance(session, tuple):
            await send_json(send, session[0], session[1])
            return
        if batch and (is_init or session.version not in BATCH_VERSIONS):
            why = (
                "initialize must not be batched" if is_init else f"protocol {session.version} has no batches"
            )
            await send_json(send, 400, _rpc_error(InvalidRequest(f"Invalid Request: {why}")))
            return

        requests: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for raw in messages:
            try:
                msg = jsonrpc.validate_message(raw)
            except InvalidRequest as exc:
                answers.append(_rpc_error(exc, exc.request_id))
                continue
            if jsonrpc.is_response(msg):
                self.engine.handle_response(msg)
            elif jsonrpc.is_notification(msg):
                self.engine.handle_notification(msg, session)
            else:
                requests.append(msg)
        needed = self._scopes_lacking(requests, principal)
        if needed:  # the tool stays listed; calling it needs a token with more scopes
            refusal = scope_refusal(scope or {}, needed)
            msg_id = requests[0].get("id") if len(requests) == 1 and not batch else None
            await send_json(send, 403, _rpc_error(InvalidRequest(refusal.message), msg_id), refusal.headers)
            return
        if not requests:
            if answers:
                await send_json(send, 400, answers if batch else answers[0])
            else:
                await send_empty(send, 202)
            return

        accept = headers.get("accept", "")
        sse_ok = "text/event-stream" in accept
        json_ok = not accept or "application/json" in accept or "*/*" in accept or "application/*" in accept
        if not sse_ok and not json_ok:
            await send_json(
                send,
                406,
                _rpc_error(InvalidRequest("Not Acceptable: accept application/json or text/event-stream")),
            )
            return
        extra = [(b"mcp-session-id", session.id.encode())] if is_init and session.id else None
        streaming = sse_ok and not self.config.json_response and (not json_ok or self._may_stream(requests))
        calls = sum(r.get("method") == "tools/call" for r in requests) if self.calls.cap() else 0
        who = caller_key(scope if scope is not None else {}, self.config, principal) if calls else ""
        full = self._admit(session, streaming, who, calls)
        if full is not None:
            msg_id = requests[0].get("id") if len(requests) == 1 and not batch else None
            await send_json(send, 429, _rpc_error(InvalidRequest(full), msg_id), [(b"retry-after", b"1")])
            return
        try:
            if streaming:
                await self._stream(receive, send, session, headers, requests, answers, extra)
                return
            handle = self.engine.handle_request
            if len(requests) == 1:
                answers.append(await handle(requests[0], session, headers, None))
            else:
                answers.extend(await asyncio.gather(*(handle(r, session, headers, None) for r in requests)))
        finally:
            self._leave(session, streaming, who, calls)
        await send_json(send, 200, answers if batch else answers[0], extra)

    def _admit(self, session: Session, streaming: bool, who: str, calls: int) -> str | None:
        """Take a stream of the session and call slots of the caller; the refusal when full."""
        cap = self.config.max_streams_per_session
        if streaming and not open_stream(session, cap):
            return STREAMS_FULL.format(cap=cap)
        if calls and not self.calls.acquire(who, calls):
            if streaming:
                close_stream(session)
            return CALLS_FULL.format(cap=self.calls.cap())
        return None

    def _leave(self, session: Session, streaming: bool, who: str, calls: int) -> None:
        if streaming:
            close_stream(session)
        if calls:
            self.calls.release(who, calls)

    def _scopes_lacking(self, requests: list[dict[str, Any]], principal: Principal | None) -> set[str]:
        """The scopes of the tools these ``tools/call`` requests name that the caller's token lacks.

        Empty for API keys and unauthenticated servers (not subject to scopes). A tool that
        lacks any has all its scopes named, so the client asks for all of them at once.
        """
        if principal is None or principal.kind != "token":
            return set()
        provider = self.engine.provider
        if getattr(provider, "scoped", True) is False:  # no tool asks for scopes
            return set()
        tools = getattr(provider, "tools", None)
        if not isinstance(tools, dict) and not isinstance(tools, Mapping):  # dict first: no ABC check
            return set()
        needed: set[str] = set()
        for request in requests:
            params = request.get("params")
            if request.get("method") != "tools/call" or not isinstance(params, dict):
                continue
            name = params.get("name")
            tool = tools.get(name) if isinstance(name, str) else None
            scopes: frozenset[str] = getattr(tool, "scopes", frozenset())
            if scopes and missing_scopes(principal, scopes):
                needed |= scopes
        return needed

    def _may_stream(self, requests: list[dict[str, Any]]) -> bool:
        for request in requests:
            params = request.get("params")
            if not isinstance(params, dict):
                continue
            meta = params.get("_meta")
            if isinstance(meta, dict) and "progressToken" in meta:
                return True
            if self.engine.provider.may_stream(request["method"], params):
                return True
        return False

    def _session_for(
        self, headers: dict[str, str], is_init: bool, batch: bool, principal: Principal | None
    ) -> Session | tuple[int, dict[str, Any]]:
        """The session a POST belongs to, or the (status, body) to refuse it with.

        A session belongs to whoever opened it: another principal naming its id is told it
        does not exist, as for an id never issued.
        """
        version_header = headers.get("mcp-protocol-version")  # a handshake revision (else modern)
        if is_init:
            if self.config.stateless:
                return Session(None, LATEST_VERSION, principal=principal)
            created = self.engine.sessions.create()
            created.principal = principal
            return created
        session_id = headers.get("mcp-session-id")
        if session_id and not self.config.stateless:
            session = self.engine.sessions.get(session_id)
            if session is None or not session.belongs_to(principal):
                return 404, _rpc_error(InvalidRequest("Session not found: initialize a new session"))
            session.principal = principal  # the same caller; its token's scopes may be newer
            return session
        version = version_header or (DEFAULT_HEADERLESS_VERSION if batch else LATEST_VERSION)
        return Session(None, version, principal=principal)

    async def _stream(
        self,
        receive: Receive,
        send: Send,
        session: Session,
        headers: dict[str, str],
        requests: list[dict[str, Any]],
        answers: list[dict[str, Any]],
        extra: list[tuple[bytes, bytes]] | None,
    ) -> None:
        log = new_stream(session.transport if session.id else None)

        async def push(message: dict[str, Any]) -> None:
            log.append(jsonrpc.encode(message))

        for answer in answers:
            log.append(jsonrpc.encode(answer))

        async def run_all() -> None:
            async def one(request: dict[str, Any]) -> None:
                answer = await self.engine.handle_request(request, session, headers, push, log.detach)
                log.append(jsonrpc.encode(answer))

            try:
                await asyncio.gather(*(one(r) for r in requests))
            finally:
                log.close()

        worker = asyncio.ensure_future(run_all())
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + (extra or [])})
        await self._write_log(send, log, 0, prime=session.id is not None)
        await worker

    async def _write_log(self, send: Send, log: StreamLog, after: int, *, prime: bool) -> None:
        if prime:
            # An event id before any message lets the client resume even if it loses the
            # connection before the first one (and tells it how soon to retry).
            await send(
                {
                    "type": "http.response.body",
                    "body": frame(b"", f"{log.id}_0", _RETRY_MS),
                    "more_body": True,
                }
            )
        async for event_id, data in log.follow(after, keepalive=self.config.sse_keepalive):
            body = frame(data, event_id) if event_id else KEEPALIVE
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # -- GET ------------------------------------------------------------------------------

    async def _get(
        self, receive: Receive, send: Send, headers: dict[str, str], principal: Principal | None
    ) -> None:
        if "text/event-stream" not in headers.get("accept", ""):
            await send_json(
                send, 406, _rpc_error(InvalidRequest("Not Acceptable: GET needs Accept: text/event-stream"))
            )
            return
        session = await self._own_session(send, headers, principal)
        if session is None:
            return
        cap = self.config.max_streams_per_session
        if not open_stream(session, cap):
            full = InvalidRequest(STREAMS_FULL.format(cap=cap))
            await send_json(send, 429, _rpc_error(full), [(b"retry-after", b"1")])
            return
        try:
            await self._get_stream(receive, send, session, headers)
        finally:
            close_stream(session)

    async def _get_stream(
        self, receive: Receive, send: Send, session: Session, headers: dict[str, str]
    ) -> None:
        last = headers.get("last-event-id")
        if last:
            parsed = parse_event_id(last)
            log = logs_of(session.transport).get(parsed[0]) if parsed else None
            if log is None or parsed is None:
                await send_json(
                    send, 404, _rpc_error(InvalidRequest("Unknown Last-Event-ID: nothing to resume"))
                )
                return
            if log.id != session.transport.get("standalone"):
                await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
                await self._write_log(send, log, parsed[1], prime=False)
                return
        if session.stream_open:
            await send_json(
                send, 409, _rpc_error(InvalidRequest("Conflict: this session's stream is already open"))
            )
            return
        await self._standalone(receive, send, session, last)

    async def _standalone(self, receive: Receive, send: Send, session: Session, last: str | None) -> None:
        standalone_id = session.transport.get("standalone")
        log = logs_of(session.transport).get(standalone_id) if standalone_id else None
        if log is None:
            log = new_stream(session.transport)
            session.transport["standalone"] = log.id
        parsed = parse_event_id(last) if last else None
        after = parsed[1] if parsed else log.seq
        session.stream_open = True
        disconnected = asyncio.ensure_future(wait_disconnect(receive))
        closing = asyncio.ensure_future(self.closing().wait())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send(
                {
                    "type": "http.response.body",
                    "body": frame(b"", f"{log.id}_{log.seq}", _RETRY_MS),
                    "more_body": True,
                }
            )
            for seq, data in list(log.events):
                if seq > after:
                    await send(
                        {
                            "type": "http.response.body",
                            "body": frame(data, f"{log.id}_{seq}"),
                            "more_body": True,
                        }
                    )
            while not disconnected.done() and not closing.done() and not session.ended:
                waiter = asyncio.ensure_future(session.next_messages(self.config.sse_keepalive))
                await asyncio.wait({waiter, disconnected, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    waiter.cancel()
                    break
                messages = waiter.result()
                if session.ended and not messages:  # evicted past max_sessions
                    break
                if not messages:
                    await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
                for message in messages:
                    data = jsonrpc.encode(message)
                    event_id = log.append(data)
                    await send(
                        {"type": "http.response.body", "body": frame(data, event_id), "more_body": True}
                    )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            session.stream_open = False
            session.touch()
            disconnected.cancel()
            closing.cancel()

    async def _own_session(
        self, send: Send, headers: dict[str, str], principal: Principal | None
    ) -> Session | None:
        """The caller's session named by a GET or DELETE, or ``None`` once refused.

        405 when stateless, 400 without ``Mcp-Session-Id``, 404 for an unknown id or one that
        another principal opened.
        """
        if self.config.stateless:
            await send_empty(send, 405, _ALLOW)
            return None
        session_id = headers.get("mcp-session-id")
        if not session_id:
            await send_json(
                send, 400, _rpc_error(InvalidRequest("Bad Request: Mcp-Session-Id header is required"))
            )
            return None
        session = self.engine.sessions.get(session_id)
        if session is None or not session.belongs_to(principal):
            await send_json(send, 404, _rpc_error(InvalidRequest("Session not found")))
            return None
        return session

    # -- DELETE ---------------------------------------------------------------------------

    async def _delete(self, send: Send, headers: dict[str, str], principal: Principal | None) -> None:
        session = await self._own_session(send, headers, principal)
        if session is None or session.id is None:
            return
        if not self.engine.sessions.remove(session.id):
            await send_json(send, 404, _rpc_error(InvalidRequest("Session not found")))
            return
        await send_empty(send, 200)
