"""The server's view of its calls: those in flight, a bounded journal of finished ones, statistics.

The tools layer opens a :class:`~nbmcp.monitor.records.CallRecord` with :meth:`Monitor.start`
and closes it with :meth:`Monitor.finish`, before the answer is encoded and sent. On finish the
record is counted (:class:`~nbmcp.monitor.stats.Usage`), encoded once as a JSON line (secrets
redacted) and handed to the sinks (the JSON-lines call log writes it there and then; the SQLite
journal queues it), then listeners (widgets) are told. Thread-safe: calls finish on the server
loop and in worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from nbmcp.monitor.records import CallRecord
from nbmcp.monitor.redact import cut_record, for_display
from nbmcp.monitor.stats import ToolStats, Usage

__all__ = ["Monitor", "ToolStats"]

logger = logging.getLogger("nbmcp")

Listener = Callable[[CallRecord], None]
Sink = Callable[[CallRecord, "bytes | None"], None]
"""Given each finished record and its JSON line (:meth:`CallRecord.to_json`, secrets redacted),
or ``None`` when no sink asked for the line then (see :meth:`Monitor.add_sink`)."""


def _no_secrets() -> Collection[str]:
    return ()


class Monitor:
    """Calls in flight (:attr:`running`), the last ``journal_size`` finished ones, statistics."""

    def __init__(self, journal_size: int = 1000) -> None:
        self.journal: deque[CallRecord] = deque(maxlen=journal_size)
        """The last finished calls, oldest first (a ring buffer)."""
        self.running: dict[str, CallRecord] = {}
        self.usage = Usage()
        self.stats: dict[str, ToolStats] = self.usage.tools
        """Totals per tool (the same objects :attr:`usage` counts in)."""
        self.secrets: Callable[[], Collection[str]] = _no_secrets
        """The server's own keys, redacted from every record shown or stored (set by the server)."""
        self.created = time.time()
        self._listeners: list[tuple[Listener, bool]] = []
        self._sinks: list[Sink] = []
        self._eager: list[Sink] = []
        """The sinks that need the JSON line on the call's path (the call log)."""
        self._lock = threading.Lock()

    def start(self, record: CallRecord) -> None:
        """A call began: it shows in :attr:`running` until :meth:`finish`."""
        with self._lock:
            self.running[record.id] = record
        self._tell(record, start=True)

    def finish(self, record: CallRecord) -> None:
        """A call was answered (``record.finish`` was called): count it, store it, tell the views."""
        with self._lock:
            self.running.pop(record.id, None)
            self.journal.append(record)
            self.usage.add(record)
        if self._sinks:
            line: bytes | None = None
            if self._eager:
                try:
                    line = record.to_json(self.secrets())
                except Exception:
                    logger.exception("nbmcp: a call record could not be encoded")
            for sink in self._sinks:
                try:
                    sink(record, line)
                except Exception:
                    logger.exception("nbmcp: a call sink failed")
        self._tell(record, start=False)

    def find(self, call_id: str) -> CallRecord | None:
        """The record of a call by id: running, or still in the journal."""
        with self._lock:
            found = self.running.get(call_id)
            if found is not None:
                return found
            return next((r for r in reversed(self.journal) if r.id == call_id), None)

    def recent(
        self, limit: int = 100, tool: str | None = None, errors_only: bool = False
    ) -> list[CallRecord]:
        """The last finished calls, newest first, of ``tool`` only and failed only if asked."""
        with self._lock:
            records = list(self.journal)
        found: list[CallRecord] = []
        for record in reversed(records):
            if len(found) >= limit:
                break
            if (tool is None or record.tool == tool) and not (errors_only and record.ok):
                found.append(record)
        return found

    def record_dict(self, record: CallRecord, *, display: bool = False) -> dict[str, Any]:
        """``record`` as a dict with the server's secrets redacted, and cut: to the journal's sizes,
        or, with ``display``, for a feed or widget (:func:`~nbmcp.monitor.redact.for_display`)."""
        shown = record.to_dict(self.secrets())
        if display:
            out: dict[str, Any] = for_display(shown)
            return out
        return cut_record(shown)

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The statistics (:meth:`Usage.snapshot <nbmcp.monitor.stats.Usage.snapshot>`) and ``in_flight``."""
        with self._lock:
            usage = self.usage.copy()
            in_flight = len(self.running)
        shown = usage.snapshot(now)
        shown["in_flight"] = in_flight
        return shown

    def _tell(self, record: CallRecord, *, start: bool) -> None:
        if not self._listeners:  # a server nobody watches: no copy of an empty list per call
            return
        for listener, starts in list(self._listeners):
            if start and not starts:
                continue
            try:
                listener(record)
            except Exception:
                logger.exception("nbmcp: a monitor listener failed")

    def subscribe(self, listener: Listener, *, starts: bool = False) -> Callable[[], None]:
        """Call ``listener(record)`` as each call ends (and as it starts, with ``starts=True``:
        ``record.running`` tells which). It must be quick and thread-safe. Returns a function
        that unsubscribes it."""
        entry = (listener, starts)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return unsubscribe

    def add_sink(self, sink: Sink, *, needs_line: bool = True) -> Callable[[], None]:
        """Hand ``sink(record, line)`` every finished call, before the answer leaves (for the call
        log and the journal: quick, thread-safe, never raising for one bad record).

        With ``needs_line``, the record is encoded on the call's path (once, whatever the number
        of sinks) and ``line`` is its JSON line; without, ``line`` is ``None`` unless another
        sink asked for it, and the sink encodes the record later itself (the journal does, on
        its writer thread, many at a time). Returns a function that removes the sink.
        """
        self._sinks.append(sink)
        if needs_line:
            self._eager.append(sink)

        def remove() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)
            if sink in self._eager:
                self._eager.remove(sink)

        return remove

    @property
    def total_calls(self) -> int:
        """Calls answered since the server was built."""
        return self.usage.total_calls
