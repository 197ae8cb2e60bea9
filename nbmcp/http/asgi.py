"""Small ASGI helpers shared by the endpoint and the guards (no framework objects)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "header_map",
    "read_body",
    "send_empty",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON = (b"content-type", b"application/json")


class BodyTooLarge(Exception):
    """The request body passed the configured limit."""


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers as a dict of lower-case names (later duplicates win)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def wait_disconnect(receive: Receive) -> None:
    """Return once the client has gone (call after the body is read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or :class:`BodyTooLarge` past ``limit`` bytes."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def send_json(
    send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete JSON response."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    out = [_JSON, (b"content-length", str(len(body)).encode())]
    if headers:
        out.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


async def send_empty(send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a response with no body (202 Accepted, 204, 405 ...)."""
    out = [(b"content-length", b"0")]
    if headers:
        out.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": b""})
