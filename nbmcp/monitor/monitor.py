"""The server's view of its calls: those in flight, a bounded journal of finished ones, totals.

The tools layer opens a :class:`~nbmcp.monitor.records.CallRecord` with :meth:`Monitor.start`
and closes it with :meth:`Monitor.finish`; listeners (widgets, journals) are told of both.
Thread-safe: calls finish on the server loop and in worker threads.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from nbmcp.monitor.records import CallRecord

__all__ = ["Monitor", "ToolStats"]

logger = logging.getLogger("nbmcp")

Listener = Callable[[CallRecord], None]


@dataclass(slots=True)
class ToolStats:
    """Running totals for one tool."""

    calls: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    @property
    def mean_seconds(self) -> float:
        """Average call duration."""
        return self.total_seconds / self.calls if self.calls else 0.0


class Monitor:
    """Calls in flight (:attr:`running`), the last ``journal_size`` finished ones, stats per tool."""

    def __init__(self, journal_size: int = 1000) -> None:
        self.journal: deque[CallRecord] = deque(maxlen=journal_size)
        self.running: dict[str, CallRecord] = {}
        self.stats: dict[str, ToolStats] = {}
        self._listeners: list[tuple[Listener, bool]] = []
        self._lock = threading.Lock()

    def start(self, record: CallRecord) -> None:
        """A call began: it shows in :attr:`running` until :meth:`finish`."""
        with self._lock:
            self.running[record.id] = record
        self._tell(record, start=True)

    def finish(self, record: CallRecord) -> None:
        """A call was answered (``record.finish`` was called): journal it and count it."""
        duration = record.duration or 0.0
        with self._lock:
            self.running.pop(record.id, None)
            self.journal.append(record)
            stats = self.stats.get(record.tool)
            if stats is None:
                stats = self.stats[record.tool] = ToolStats()
            stats.calls += 1
            stats.errors += not record.ok
            stats.total_seconds += duration
            stats.max_seconds = max(stats.max_seconds, duration)
            stats.latencies.append(duration)
        self._tell(record, start=False)

    def find(self, call_id: str) -> CallRecord | None:
        """The record of a call by id: running, or still in the journal."""
        with self._lock:
            found = self.running.get(call_id)
            if found is not None:
                return found
            return next((r for r in reversed(self.journal) if r.id == call_id), None)

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

    @property
    def total_calls(self) -> int:
        """Calls answered since the server was built."""
        return sum(s.calls for s in self.stats.values())
