"""The process plumbing the providers share: draining an agent's output, ending it, cleaning up.

:class:`ProcessTunnel` owns one agent process: a :class:`LineReader` thread drains its output
(so the pipe never fills and the agent never blocks on a write) and keeps the last error line;
:meth:`ProcessTunnel.close` ends the process (terminate, then kill after a bounded wait), joins
the thread, closes the pipe and deletes the provider's private files. Tunnels still open when
the interpreter exits (a kernel shut down, ``nbmcp serve`` stopped) are closed then, so no
agent outlives its Python process on a normal exit.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import IO, Any

from nbmcp.tunnel.base import Tunnel, one_line

__all__ = ["STOP_WAIT", "LineReader", "ProcessTunnel", "stop_process"]

logger = logging.getLogger("nbmcp.tunnel")

STOP_WAIT = 5.0
"""Seconds a process gets to exit after SIGTERM (and again after SIGKILL)."""

_open: set[ProcessTunnel] = set()
_open_lock = threading.Lock()
_at_exit_registered = False


def _close_all_at_exit() -> None:
    with _open_lock:
        still_open = list(_open)
    for tunnel in still_open:
        tunnel.close()


def _track(tunnel: ProcessTunnel) -> None:
    global _at_exit_registered
    with _open_lock:
        _open.add(tunnel)
        if not _at_exit_registered:
            atexit.register(_close_all_at_exit)
            _at_exit_registered = True


def _untrack(tunnel: ProcessTunnel) -> None:
    with _open_lock:
        _open.discard(tunnel)


def stop_process(proc: subprocess.Popen[Any], wait: float = STOP_WAIT) -> None:
    """End ``proc``: SIGTERM, then SIGKILL if it is still up after ``wait`` s; always reaped."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)


class LineReader:
    """Drains a process's text output on a daemon thread, line by line, until end of file.

    ``error`` picks the error text out of a line (``None`` for other lines); the last one found
    is :attr:`last_error`, already one line and redacted. ``on_line`` sees every line;
    ``on_end`` is called once the output has ended (the process exited or closed it).
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        name: str,
        error: Callable[[str], str | None],
        on_line: Callable[[str], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.stream = stream
        self.last_error: str | None = None
        self.ended = threading.Event()
        self._error = error
        self._on_line = on_line
        self._on_end = on_end
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read_lines()
        finally:
            self.ended.set()
            if self._on_end is not None:
                self._on_end()

    def _read_lines(self) -> None:
        try:
            for raw in self.stream:
                line = raw.rstrip("\r\n")
                if line:
                    self._take(line)
        except ValueError:  # undecodable bytes (or a closed pipe): keep draining, as bytes
            raw_stream = getattr(self.stream, "buffer", None)
            with contextlib.suppress(OSError, ValueError):
                while raw_stream is not None and raw_stream.read(65536):
                    pass
        except OSError:
            pass

    def _take(self, line: str) -> None:
        try:
            found = self._error(line)
            if found:
                self.last_error = one_line(found)
            if self._on_line is not None:
                self._on_line(line)
        except Exception:  # a faulty callback must not stop the draining (the pipe would fill)
            logger.debug("nbmcp: reading a tunnel agent's line failed", exc_info=True)

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the output to end; ``True`` once the thread is done."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


class ProcessTunnel(Tunnel):
    """A tunnel whose agent is one child process that this object owns.

    Args:
        proc: The agent's process; its output is drained by ``reader``.
        reader: The thread draining ``proc``'s output.
        agent: How messages name the process (``"the ngrok agent"``).
        workdir: A private directory (config file, links) deleted on close.
        on_close: Called after the process ended, to drop a library's records of it.
    """

    def __init__(
        self,
        *,
        public_url: str,
        proc: subprocess.Popen[str],
        reader: LineReader,
        agent: str,
        workdir: str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self._proc = proc
        self._reader = reader
        self._agent = agent
        self._workdir = workdir
        self._on_close = on_close
        self._closed = False
        self._lock = threading.Lock()
        _track(self)

    def alive(self) -> bool:
        return not self._closed and self._proc.poll() is None

    def problem(self) -> str | None:
        if self._closed:
            return f"the tunnel was closed ({self._agent} stopped)"
        code = self._proc.poll()
        if code is None:
            return None
        how = f"code {code}" if code >= 0 else f"signal {-code}"
        why = self._reader.last_error
        return f"{self._agent} exited ({how})" + (f": {why}" if why else "")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            stop_process(self._proc)
            if self._reader.join(STOP_WAIT):
                with contextlib.suppress(OSError, ValueError):
                    self._reader.stream.close()
            else:  # a grandchild still holds the pipe: closing it now would block on the reader
                logger.debug("nbmcp: %s output still open after it exited", self._agent)
            if self._on_close is not None:
                self._on_close()
        except Exception:  # close() never raises: a failed cleanup step is logged, not thrown
            logger.debug("nbmcp: closing the %s tunnel failed", self.provider, exc_info=True)
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
            _untrack(self)
