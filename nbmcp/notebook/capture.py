"""Keep tool output out of the cells: a routing ``sys.stdout``/``sys.stderr``.

A kernel has one ``sys.stdout`` shared by every thread, and whatever a worker thread prints
lands in the cell that happens to be running. The extension installs :class:`RoutingStream`
once over each stream; it sends a write

* to the running tool call's buffer (:func:`nbmcp.monitor.output.current_output`), so it ends in
  that call's monitor record;
* else, from one of nbmcp's own threads (server, tool workers), to :data:`SERVER_LOG`, which
  ``%mcp status`` shows, so no banner, warning or traceback of the server reaches a cell;
* else to the stream it wraps, unchanged (the cell's own prints).
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Any, TextIO

from nbmcp.monitor.output import current_output

__all__ = ["SERVER_LOG", "RoutingStream", "install", "uninstall"]

SERVER_LOG: deque[str] = deque(maxlen=200)
"""Recent lines written by nbmcp's threads outside any call (newest last)."""

_OWN_THREADS = ("nbmcp-",)


class _LineLog:
    """Collects partial writes into whole lines for :data:`SERVER_LOG`."""

    def __init__(self) -> None:
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            text = self._partial + text
            *lines, self._partial = text.split("\n")
            SERVER_LOG.extend(line for line in lines if line.strip())


class RoutingStream:
    """Wraps a text stream; routes each write by who is writing (see the module doc)."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name
        self._log = _LineLog()

    @property
    def wrapped(self) -> TextIO:
        """The stream under this one (the kernel's ``OutStream``)."""
        return self._stream

    def write(self, text: str) -> int:
        buffer = current_output()
        if buffer is not None:
            return buffer.write(text)
        if threading.current_thread().name.startswith(_OWN_THREADS):
            self._log.write(text)
            return len(text)
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if current_output() is None:
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __repr__(self) -> str:
        return f"<nbmcp RoutingStream {self._name} over {self._stream!r}>"


def install() -> None:
    """Put a :class:`RoutingStream` over ``sys.stdout`` and ``sys.stderr`` (once)."""
    if not isinstance(sys.stdout, RoutingStream):
        sys.stdout = RoutingStream(sys.stdout, "stdout")
    if not isinstance(sys.stderr, RoutingStream):
        sys.stderr = RoutingStream(sys.stderr, "stderr")


def uninstall() -> None:
    """Restore the wrapped streams (when ours are still the current ones)."""
    if isinstance(sys.stdout, RoutingStream):
        sys.stdout = sys.stdout.wrapped
    if isinstance(sys.stderr, RoutingStream):
        sys.stderr = sys.stderr.wrapped
