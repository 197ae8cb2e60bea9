"""Throwaway HTTP servers on 127.0.0.1 for tests: a handler class in, a base URL out.

::

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.reply(200, b"ok", {"content-type": "text/plain"})

    with serve_handler(Handler) as base:  # "http://127.0.0.1:<port>", no trailing slash
        ...
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing; subclasses add ``do_GET`` / ``do_POST``."""

    def reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Send ``status``, ``headers``, a content-length and ``body``."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@contextlib.contextmanager
def serve_handler(
    handler_cls: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve ``handler_cls`` on a free loopback port (over TLS with the server context ``tls``)
    in a thread; yield the base URL; shut down, close and join at the end."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
