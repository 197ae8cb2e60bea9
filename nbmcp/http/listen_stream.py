"""``subscriptions/listen`` over HTTP (protocol 2026-07-28): a POST answered by a long-lived event stream.

The stream opens with ``notifications/subscriptions/acknowledged`` (the filter honoured), then
carries the list changes and resource updates asked for, with keep-alive comments while quiet
and no event ids. The client ends it by closing the stream; the server ends it (shutting down)
with the listen request's result, tagged with the subscription id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbmcp.errors import InvalidParams, InvalidRequest
from nbmcp.http.asgi import Receive, Send, send_json, wait_disconnect
from nbmcp.http.concurrency import STREAMS_FULL
from nbmcp.http.sse import KEEPALIVE, SSE_HEADERS, frame
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.envelope import SERVER_INFO_KEY, SUBSCRIPTION_ID_KEY, Envelope
from nbmcp.protocol.subscriptions import honoured, read_filter

if TYPE_CHECKING:
    from nbmcp.config import ServerConfig
    from nbmcp.protocol.engine import Engine

__all__ = ["Listening", "listen"]


@dataclass(frozen=True, slots=True)
class Listening:
    """What a listen stream needs of its server: the engine's listeners, the stream settings,
    the serverInfo of the final result, and the event that says the server is stopping."""

    engine: Engine
    config: ServerConfig
    server_info: Callable[[str], dict[str, Any]]
    closing: asyncio.Event


async def listen(
    server: Listening,
    receive: Receive,
    send: Send,
    msg: dict[str, Any],
    envelope: Envelope,
    owner: str,
    sse_ok: bool,
) -> None:
    """Serve one listen request until the client leaves or the server stops.

    ``owner`` is who the per-caller cap of open streams counts (the principal, else the
    client's address: ``max_streams_per_session`` each).
    """
    msg_id = msg["id"]
    if not sse_ok:
        refusal = InvalidRequest("Not Acceptable: subscriptions/listen answers with text/event-stream")
        await send_json(send, 406, jsonrpc.error_response(msg_id, refusal))
        return
    try:
        wanted = read_filter(msg["params"])
    except InvalidParams as exc:
        await send_json(send, 400, jsonrpc.error_response(msg_id, exc))
        return
    engine = server.engine
    agreed = honoured(wanted, engine.info.capabilities)
    cap = server.config.max_streams_per_session
    listener = engine.listeners.open(msg_id, agreed, owner, cap)
    if listener is None:
        full = InvalidRequest(STREAMS_FULL.format(cap=cap))
        await send_json(send, 429, jsonrpc.error_response(msg_id, full), [(b"retry-after", b"1")])
        return
    tag = {SUBSCRIPTION_ID_KEY: msg_id}
    ack = jsonrpc.notification(
        "notifications/subscriptions/acknowledged", {"notifications": agreed, "_meta": tag}
    )
    gone = asyncio.ensure_future(wait_disconnect(receive))
    closing = asyncio.ensure_future(server.closing.wait())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await send({"type": "http.response.body", "body": frame(jsonrpc.encode(ack)), "more_body": True})
        while True:
            waiter = asyncio.ensure_future(listener.next(server.config.sse_keepalive))
            await asyncio.wait({waiter, gone, closing}, return_when=asyncio.FIRST_COMPLETED)
            if gone.done():
                waiter.cancel()
                return  # the client closed the stream: that ends the subscription
            if closing.done() and not waiter.done():
                waiter.cancel()
                break
            messages = waiter.result()
            if not messages:
                await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
            for message in messages:
                await send(
                    {"type": "http.response.body", "body": frame(jsonrpc.encode(message)), "more_body": True}
                )
        info = server.server_info(envelope.version)
        done = jsonrpc.result_response(
            msg_id, {"resultType": "complete", "_meta": {**tag, SERVER_INFO_KEY: info}}
        )
        await send({"type": "http.response.body", "body": frame(jsonrpc.encode(done)), "more_body": False})
    finally:
        engine.listeners.close(listener)
        gone.cancel()
        closing.cancel()
