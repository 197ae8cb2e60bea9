"""What happened on each tool call, kept in a bounded journal with running totals."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallEvent", "Monitor", "ToolStats"]

logger = logging.getLogger("nbmcp")


@dataclass(slots=True)
class CallEvent:
    """One finished tool call."""

    tool: str
    arguments: dict[str, Any]
    started: float
    """Wall-clock start (``time.time()``)."""
    duration: float
    """Seconds from start to answer."""
    ok: bool
    error: str | None = None
    session_id: str | None = None
    output: str = ""
    """What the tool printed while it ran, when captured."""


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


Listener = Callable[[CallEvent], None]


class Monitor:
    """Collects :class:`CallEvent` s: a journal of the last ``journal_size`` and stats per tool."""

    def __init__(self, journal_size: int = 1000) -> None:
        self.journal: deque[CallEvent] = deque(maxlen=journal_size)
        self.stats: dict[str, ToolStats] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def record(self, event: CallEvent) -> None:
        """Add an event; listeners are told at once (they must be quick and thread-safe)."""
        with self._lock:
            self.journal.append(event)
            stats = self.stats.get(event.tool)
            if stats is None:
                stats = self.stats[event.tool] = ToolStats()
            stats.calls += 1
            stats.errors += not event.ok
            stats.total_seconds += event.duration
            stats.max_seconds = max(stats.max_seconds, event.duration)
            stats.latencies.append(event.duration)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("nbmcp: a monitor listener failed")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for each new event; returns a function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def total_calls(self) -> int:
        """Calls recorded since the server was built."""
        return sum(s.calls for s in self.stats.values())
