"""``POST /mcp`` under protocol 2026-07-28: one self-contained request, no session.

The checks run in the order the specification's clients expect: the message's shape (-32600),
its ``_meta`` envelope (-32602), the MCP headers against the body (-32020), the version
(-32022), the method (404, -32601), ``Mcp-Param-*`` headers of the tool (-32020). Errors carry
the request id and their HTTP status (400, or 404 for an unknown method).

A call that cannot talk to its client before its answer (no ``Context``, no progress token) is
answered inline as JSON: the fast path. One that may is started at once and answered as JSON
if it finishes first; its first notification (or ``sse_keepalive`` seconds of silence) commits
the answer to an event stream instead, with no event ids (2026-07-28 has no resumption).
Closing that stream cancels the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from nbmcp.errors import InvalidRequest, MethodNotFound, ProtocolError
from nbmcp.http.asgi import Receive, Scope, Send, send_empty, send_json, wait_disconnect
from nbmcp.http.auth import scope_refusal
from nbmcp.http.concurrency import CALLS_FULL
from nbmcp.http.limits import caller_key
from nbmcp.http.listen_stream import Listening, listen
from nbmcp.http.mcp_headers import check_params, check_standard
from nbmcp.http.sse import KEEPALIVE, SSE_HEADERS, frame
from nbmcp.principal import Principal
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.envelope import PROTOCOL_VERSION_KEY, Envelope, read_envelope
from nbmcp.protocol.modern import ModernDispatch
from nbmcp.protocol.versions import HANDSHAKE_VERSIONS, check_modern

if TYPE_CHECKING:
    from nbmcp.config import ServerConfig
    from nbmcp.http.concurrency import CallSlots
    from nbmcp.protocol.engine import Engine

ScopesLacking = Callable[[list[dict[str, Any]], Principal | None], set[str]]
"""The scopes a token lacks for these ``tools/call`` requests (the endpoint's one check)."""

__all__ = ["STATUS_OF", "ModernPost", "is_modern"]

STATUS_OF: Final[dict[int, int]] = {
    -32700: 400,
    -32600: 400,
    -32602: 400,
    -32020: 400,
    -32021: 400,
    -32022: 400,
    -32601: 404,
}
"""The HTTP status of a JSON-RPC error under 2026-07-28 (any other error: 200)."""


def is_modern(headers: Mapping[str, str], payload: Any) -> bool:
    """Whether a POST speaks 2026-07-28: its version header is not a handshake revision, or it has
    no such header and its ``_meta`` names a version (then the header check refuses it, -32020)."""
    version = headers.get("mcp-protocol-version")
    if version is not None:
        return version.strip() not in HANDSHAKE_VERSIONS
    if type(payload) is not dict:
        return False
    params = payload.get("params")
    if type(params) is not dict:
        return False
    meta = params.get("_meta")
    return type(meta) is dict and PROTOCOL_VERSION_KEY in meta


def status_of(answer: dict[str, Any]) -> int:
    """The HTTP status that carries a JSON-RPC answer."""
    error = answer.get("error")
    return 200 if error is None else STATUS_OF.get(error.get("code", 0), 200)


class ModernPost:
    """Serves 2026-07-28 POSTs for ``/mcp`` (:class:`~nbmcp.http.mcp_endpoint.McpEndpoint`), with
    the endpoint's call slots, scope check and shutdown signal, so both generations share them."""

    def __init__(
        self,
        engine: Engine,
        config: ServerConfig,
        calls: CallSlots,
        scopes_lacking: ScopesLacking,
        closing: Callable[[], asyncio.Event],
    ) -> None:
        self.engine = engine
        self.config = config
        self.calls = calls
        self._scopes_lacking = scopes_lacking
        self._closing = closing
        self.dispatch = ModernDispatch(
            engine,
            request_state_secret=config.request_state_secret,
            request_state_ttl=config.request_state_ttl,
            list_ttl_ms=config.list_ttl_ms,
        )

    async def post(
        self,
        receive: Receive,
        send: Send,
        scope: Scope,
        headers: Mapping[str, str],
        payload: Any,
        principal: Principal | None,
    ) -> None:
        """Answer one decoded 2026-07-28 POST body."""
        if type(payload) is not dict:
            why = "a batch" if isinstance(payload, list) else "not a JSON-RPC message"
            await send_json(
                send, 400, jsonrpc.error_response(None, InvalidRequest(f"Invalid Request: {why}"))
            )
            return
        try:
            msg = jsonrpc.validate_message(payload)
        except InvalidRequest as exc:
            await send_json(send, 400, jsonrpc.error_response(exc.request_id, exc))
            return
        if "method" not in msg or "id" not in msg:  # notifications and responses: nothing to answer
            await send_empty(send, 202)
            return
        msg_id = msg["id"]
        try:
            envelope = self._admit_message(scope, headers, msg)
        except ProtocolError as exc:
            await send_json(send, STATUS_OF.get(exc.code, 400), jsonrpc.error_response(msg_id, exc))
            return
        accept = headers.get("accept", "")
        sse_ok = "text/event-stream" in accept
        if not sse_ok and accept and "json" not in accept and "*/*" not in accept:
            unacceptable = InvalidRequest("Not Acceptable: accept application/json or text/event-stream")
            await send_json(send, 406, jsonrpc.error_response(msg_id, unacceptable))
            return
        method = msg["method"]
        if method == "subscriptions/listen":
            owner = caller_key(scope, self.config, principal)  # anonymous: by address
            stream = Listening(self.engine, self.config, self.dispatch.server_info, self._closing())
            await listen(stream, receive, send, msg, envelope, owner, sse_ok)
            return
        if method == "tools/call" and principal is not None and principal.kind == "token":
            needed = self._scopes_lacking([msg], principal)
            if needed:
                refusal = scope_refusal(scope, needed)
                await send_json(
                    send,
                    403,
                    jsonrpc.error_response(msg_id, InvalidRequest(refusal.message)),
                    refusal.headers,
                )
                return
        calls = self.calls
        who = ""
        if method == "tools/call" and calls.cap():
            who = caller_key(scope, self.config, principal)
            if not calls.acquire(who, 1):
                full = InvalidRequest(CALLS_FULL.format(cap=calls.cap()))
                await send_json(send, 429, jsonrpc.error_response(msg_id, full), [(b"retry-after", b"1")])
                return
        try:
            may_talk = self.engine.provider.may_stream(method, msg["params"])  # a Context, chunks
            streaming = (
                sse_ok and not self.config.json_response and (may_talk or "progressToken" in envelope.meta)
            )
            if streaming:
                await self._deferred(receive, send, msg, envelope, principal, headers)
            else:
                answer = await self.dispatch.handle(msg, envelope, principal, headers, None, may_ask=may_talk)
                await send_json(send, status_of(answer), jsonrpc.encode(answer))
        finally:
            if who:
                calls.release(who, 1)

    def _admit_message(self, scope: Scope, headers: Mapping[str, str], msg: dict[str, Any]) -> Envelope:
        """The request's envelope once every check before dispatch has passed."""
        envelope = read_envelope(msg.get("params"))
        raw = scope["headers"]
        check_standard(raw, msg, envelope.version, headers)
        check_modern(envelope.version)
        method = msg["method"]
        if method != "subscriptions/listen" and not self.dispatch.knows(method):
            raise MethodNotFound(f"Method not found: {method} (not in protocol {envelope.version})")
        if method == "tools/call":
            params = msg["params"]
            name = params.get("name")
            wanted = self.engine.provider.header_params(name) if isinstance(name, str) else ()
            if wanted:
                arguments = params.get("arguments")
                check_params(raw, arguments if isinstance(arguments, dict) else {}, wanted)
        return envelope

    async def _deferred(
        self,
        receive: Receive,
        send: Send,
        msg: dict[str, Any],
        envelope: Envelope,
        principal: Principal | None,
        headers: Mapping[str, str],
    ) -> None:
        queue: list[bytes] = []
        wake = asyncio.Event()

        async def push(message: dict[str, Any]) -> None:
            queue.append(jsonrpc.encode(message))
            wake.set()

        task = asyncio.ensure_future(self.dispatch.handle(msg, envelope, principal, headers, push))
        gone = asyncio.ensure_future(wait_disconnect(receive))
        keepalive = self.config.sse_keepalive
        try:
            if not await _wait(task, wake, gone, keepalive):
                return  # the client left: the call is cancelled below
            if task.done() and not queue:
                answer = task.result()
                await send_json(send, status_of(answer), jsonrpc.encode(answer))
                return
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            while True:
                wake.clear()
                while queue:
                    await send({"type": "http.response.body", "body": frame(queue.pop(0)), "more_body": True})
                if task.done():
                    break
                if not await _wait(task, wake, gone, keepalive):
                    return
                if not wake.is_set() and not task.done():  # quiet for sse_keepalive seconds
                    await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
            body = frame(jsonrpc.encode(task.result()))
            await send({"type": "http.response.body", "body": body, "more_body": False})
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()  # the stream closed before the answer: the specification's cancellation
                await asyncio.gather(task, return_exceptions=True)


async def _wait(
    task: asyncio.Future[Any], wake: asyncio.Event, gone: asyncio.Future[None], timeout: float
) -> bool:
    """Wait for the answer, a notification or ``timeout``; ``False`` when the client left instead."""
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({task, waker, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waker.cancel()
    return not gone.done()
