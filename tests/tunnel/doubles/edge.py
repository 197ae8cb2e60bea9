"""The TLS edge of the tunnel doubles: terminate HTTPS, forward each request to the local server.

Like a provider's edge it keeps the ``Host`` header the client sent (the public name), writes
the client's address in the provider's header, says ``X-Forwarded-Proto: https``, keeps each
client connection alive with one upstream connection behind it, and streams response bodies
as they come (an event stream passes unbuffered), unless ``hold_get_streams`` is set: then,
as cloudflared quick tunnels do, a GET event stream reaches the client only once it has ended.

Run inside the doubles' own processes (asyncio + h11); the tests never import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

import h11

HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"upgrade",
    b"expect",
}
FORWARDING = {
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"cf-connecting-ip",
    b"cf-visitor",
}
READ = 65536

Headers = list[tuple[bytes, bytes]]


def tls_context(cert_and_key: str) -> ssl.SSLContext:
    """A server context for the public names, from one PEM file holding the key and the chain."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_and_key)
    context.set_alpn_protocols(["http/1.1"])
    return context


async def next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    """The next h11 event, reading from ``reader`` as needed (end of file included)."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(READ))


class _Upstream:
    """One HTTP/1.1 connection to the local server, reused while both sides keep it alive."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        conn = self.conn
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        return conn.our_state is h11.IDLE and conn.their_state is h11.IDLE

    async def send(self, event: object) -> None:
        data = self.conn.send(event)  # type: ignore[arg-type]
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2)


class Edge:
    """Forwards HTTPS requests to ``http://upstream_host:upstream_port``.

    Args:
        address_headers: Header names that get the client's address (``X-Forwarded-For``...).
        extra_headers: Further headers added to each request (``Cf-Visitor``...).
        hold_get_streams: Hold a GET event stream until it ends (cloudflared quick tunnels).
        on_request: Called with ``(method, target, headers)`` for each request (the inspector).
        on_hold: Called each time a GET event stream is held.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        address_headers: tuple[bytes, ...],
        extra_headers: tuple[tuple[bytes, bytes], ...] = (),
        hold_get_streams: bool = False,
        on_request: Callable[[str, str, Headers], None] | None = None,
        on_hold: Callable[[], None] | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.address_headers = address_headers
        self.extra_headers = list(extra_headers)
        self.hold_get_streams = hold_get_streams
        self.on_request = on_request
        self.on_hold = on_hold
        self.server: asyncio.base_events.Server | None = None

    async def start(self, context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0) -> int:
        self.server = await asyncio.start_server(self._client, host, port, ssl=context)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = (peer[0] if peer else "127.0.0.1").encode()
        conn = h11.Connection(h11.SERVER)
        upstream: _Upstream | None = None
        try:
            while True:
                request = await next_event(conn, reader)
                if not isinstance(request, h11.Request):
                    break
                if upstream is None or not upstream.reusable():
                    if upstream is not None:
                        await upstream.close()
                    upstream = await self._open_upstream(conn, writer)
                    if upstream is None:
                        break
                if not await self._exchange(conn, reader, writer, request, upstream, address):
                    break
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.ProtocolError, OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            if upstream is not None:
                await upstream.close()
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)

    async def _open_upstream(self, conn: h11.Connection, writer: asyncio.StreamWriter) -> _Upstream | None:
        try:
            reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            body = b"the tunnel's local server does not answer\n"
            headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
            for event in (
                h11.Response(status_code=502, headers=headers),
                h11.Data(data=body),
                h11.EndOfMessage(),
            ):
                writer.write(conn.send(event) or b"")
            await writer.drain()
            return None
        return _Upstream(reader, up_writer)

    def _request_headers(self, request: h11.Request, address: bytes) -> Headers:
        headers = [
            (name, value)
            for name, value in request.headers
            if name not in HOP_BY_HOP and name not in FORWARDING
        ]
        headers += [(name, address) for name in self.address_headers]
        headers += [(b"x-forwarded-proto", b"https"), *self.extra_headers]
        return headers

    async def _exchange(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        upstream: _Upstream,
        address: bytes,
    ) -> bool:
        """Forward one request and its answer; ``False`` when the connection should end."""
        headers = self._request_headers(request, address)
        if self.on_request is not None:
            self.on_request(request.method.decode(), request.target.decode(), headers)
        await upstream.send(h11.Request(method=request.method, target=request.target, headers=headers))
        while True:  # the request body, as it comes
            event = await next_event(conn, reader)
            if isinstance(event, h11.Data):
                await upstream.send(event)
            elif isinstance(event, h11.EndOfMessage):
                await upstream.send(h11.EndOfMessage())
                break
            else:
                return False
        response = await next_event(upstream.conn, upstream.reader)
        while isinstance(response, h11.InformationalResponse):
            response = await next_event(upstream.conn, upstream.reader)
        if not isinstance(response, h11.Response):
            return False
        kept = [(n, v) for n, v in response.headers if n not in HOP_BY_HOP and n != b"transfer-encoding"]
        writer.write(
            conn.send(h11.Response(status_code=response.status_code, headers=kept, reason=response.reason))
            or b""
        )
        await writer.drain()
        stream = dict(response.headers).get(b"content-type", b"").startswith(b"text/event-stream")
        hold = self.hold_get_streams and request.method == b"GET" and stream
        if hold and self.on_hold is not None:
            self.on_hold()
        return await self._relay_body(conn, reader, writer, upstream, hold)

    async def _relay_body(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
        hold: bool,
    ) -> bool:
        """Stream the response body to the client, ending early if the client goes away."""
        relay = asyncio.ensure_future(self._body(conn, writer, upstream, hold))
        while not relay.done():
            watch = asyncio.ensure_future(reader.read(READ))
            await asyncio.wait({relay, watch}, return_when=asyncio.FIRST_COMPLETED)
            if not watch.done():
                watch.cancel()
            try:
                data = await watch
            except asyncio.CancelledError:
                continue
            conn.receive_data(data)  # a pipelined next request, or b"" when the client left
            if not data:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await relay
                return False
        return relay.result()

    async def _body(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, upstream: _Upstream, hold: bool
    ) -> bool:
        held: list[bytes] = []
        while True:
            event = await next_event(upstream.conn, upstream.reader)
            if isinstance(event, h11.Data):
                if hold:
                    held.append(bytes(event.data))
                    continue
                writer.write(conn.send(h11.Data(data=event.data)) or b"")
                await writer.drain()
            elif isinstance(event, h11.EndOfMessage):
                if held:
                    writer.write(conn.send(h11.Data(data=b"".join(held))) or b"")
                writer.write(conn.send(h11.EndOfMessage()) or b"")
                await writer.drain()
                return True
            else:
                return False
