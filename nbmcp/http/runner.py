"""Serve an ASGI app from a background thread with its own event loop.

The caller may already run a loop (a Jupyter kernel does), so uvicorn gets a thread and a
loop of its own. The socket is bound here, before the thread starts, so a port in use is a
clear :class:`PortInUseError` in the caller's thread, and ``port=0`` reports the real port.

With a certificate (``ssl_certfile``, ``ssl_keyfile``) uvicorn serves HTTPS on that socket
(it wraps the sockets it is given). The files are checked here first, in the caller's thread,
so a missing file, a file that is no certificate or key, an encrypted key or a key that does
not match the certificate is one :class:`ServerStartError` line, never a traceback from the
serving thread (nor OpenSSL asking for a passphrase on the terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Callable, Generator
from typing import Any

from nbmcp.errors import PortInUseError, ServerStartError

__all__ = ["BackgroundServer", "bind_socket", "check_tls"]

logger = logging.getLogger("nbmcp")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``SO_REUSEADDR``, so a stopped port is free at once)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(
                f"port {port} on {host} is already in use; stop what holds it or pick another port"
            ) from exc
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


class _Encrypted(Exception):
    """Raised from the passphrase callback: the key is encrypted, and nbmcp never prompts."""


def _refuse_passphrase() -> bytes:
    raise _Encrypted


def check_tls(certfile: str | None, keyfile: str | None) -> None:
    """Check that ``certfile`` (PEM chain) and ``keyfile`` (its unencrypted PEM key) serve TLS.

    ``keyfile`` may be ``None`` when the key is in ``certfile``.

    Raises:
        ServerStartError: one line naming the file and what is wrong with it.
    """
    import ssl

    if certfile is None:
        raise ServerStartError("ssl_keyfile needs ssl_certfile: the certificate its key belongs to")
    for what, path in (("certificate", certfile), ("key", keyfile)):
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ServerStartError(f"cannot read the TLS {what} file {path}: {exc.strerror or exc}") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=certfile)
    except ssl.SSLError:
        raise ServerStartError(f"the TLS certificate file {certfile} holds no PEM certificate") from None
    key = keyfile or certfile
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile, _refuse_passphrase)
    except _Encrypted:
        raise ServerStartError(
            f"the TLS key file {key} is encrypted; give it unencrypted (openssl pkey -in {key} -out key.pem)"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise ServerStartError(f"the TLS key {key} does not match the certificate {certfile}") from None
        if keyfile is None:
            raise ServerStartError(
                f"the TLS certificate file {certfile} holds no key; give its key file too"
            ) from None
        raise ServerStartError(f"the TLS key file {key} holds no PEM private key") from None


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class BackgroundServer:
    """uvicorn in a daemon thread: :meth:`start` returns once the socket is serving."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
        before_stop: Callable[[], None] | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self._on_loop = on_loop
        self._before_stop = before_stop
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS (a certificate was given)."""
        return self.ssl_certfile is not None or self.ssl_keyfile is not None

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> int:
        """Bind, start the thread, wait for uvicorn's ``started``; returns the port.

        Raises:
            PortInUseError: the port is taken.
            ServerStartError: the certificate or key cannot serve TLS (see :func:`check_tls`),
                or uvicorn did not come up within ``timeout`` seconds.
        """
        import uvicorn

        if self.tls:
            check_tls(self.ssl_certfile, self.ssl_keyfile)
        sock = bind_socket(self.host, self.port)
        self._socket = sock
        self.port = sock.getsockname()[1]

        class _Server(uvicorn.Server):
            wake: asyncio.Event | None = None

            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield  # the thread never owns signals; the caller handles them

            async def main_loop(self) -> None:
                # uvicorn polls should_exit every 0.1 s; waiting on an event makes stop() prompt.
                self.wake = asyncio.Event()
                counter = 0
                while not await self.on_tick(counter):
                    counter = (counter + 10) % 864000  # on_tick refreshes the Date header at multiples of 10
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), 1.0)

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                # As uvicorn's, without its fixed 0.1 s pauses: a restart must be quick.
                for listener in self.servers:
                    listener.close()
                for connection in list(self.server_state.connections):
                    connection.shutdown()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + float(self.config.timeout_graceful_shutdown or 0)
                state = self.server_state
                while (state.connections or state.tasks) and not self.force_exit and loop.time() < deadline:
                    await asyncio.sleep(0.005)
                for task in list(state.tasks):
                    task.cancel(msg="nbmcp: server stopped")

        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            log_config=None,
            lifespan="off",
            loop="none",
            http="httptools" if _has("httptools") else "h11",
            ws="none",
            timeout_graceful_shutdown=3,
            timeout_keep_alive=30,
            server_header=False,
            proxy_headers=False,  # nbmcp sees the socket's peer; a proxy in front says so itself
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
        )
        self._server = _Server(config)
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=f"nbmcp-server:{self.port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout) or self._error is not None or not self._server.started:
            error = self._error
            self.stop()
            raise ServerStartError(f"the server on port {self.port} did not start: {error or 'timed out'}")
        return int(self.port)

    def _run(self, ready: threading.Event) -> None:
        loop = _new_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        server = self._server

        async def serve() -> None:
            if self._on_loop is not None:
                self._on_loop(loop)
            task = asyncio.ensure_future(server.serve(sockets=[self._socket]))
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            ready.set()
            await task

        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # SystemExit from uvicorn, or anything else: report, never leak
            self._error = exc
            logger.error("nbmcp: server thread stopped: %r", exc)
        finally:
            ready.set()
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, join the thread and free the port (idempotent)."""
        server, thread, loop = self._server, self._thread, self._loop
        if server is not None:
            if self._before_stop is not None and loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._before_stop)
            server.should_exit = True
            wake = getattr(server, "wake", None)
            if wake is not None and loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(wake.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._thread = self._server = self._socket = self._loop = None


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
