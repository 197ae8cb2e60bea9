"""A small local upstream for the tunnel tests: what arrived, and an event stream paced by the test.

``/echo`` answers with the request as JSON (method, path, headers, the peer's port: the same
port on two answers means the edge reused its upstream connection). ``/stream`` answers an
event stream: ``data: one``, then (after the test sets :attr:`Upstream.step`) ``data: two``,
then ends; so a test that reads ``one`` before setting ``step`` proves nothing held it back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _echo(self) -> None:
        body = self._body()
        answer = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "peer_port": self.client_address[1],
            "body": body.decode(errors="replace"),
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self) -> None:
        self._body()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk(b"data: one\n\n")
        if not self.server.step.wait(30):
            self.close_connection = True
            return
        self._chunk(b"data: two\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        self._stream() if self.path.startswith("/stream") else self._echo()

    def do_POST(self) -> None:
        self._stream() if self.path.startswith("/stream") else self._echo()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    step: threading.Event


class Upstream:
    """The running upstream: :attr:`port`, and :attr:`step` to release a stream's second event."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.port: int = server.server_address[1]
        self.step = server.step


@contextmanager
def upstream() -> Iterator[Upstream]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.step = threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="tunnel-test-upstream", daemon=True)
    thread.start()
    try:
        yield Upstream(server)
    finally:
        server.step.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
