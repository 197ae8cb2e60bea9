"""Usage statistics of one server: totals, latency percentiles per tool, calls per minute, clients.

:class:`Usage` is fed every finished call by :class:`~nbmcp.monitor.monitor.Monitor` (under its
lock) and turned into the JSON-able dict of ``server.stats()`` by :meth:`Usage.snapshot`:

* counts (``total_calls``, ``errors``, per tool, per client) run since the server was built;
* latency percentiles (``p50_ms``, ``p95_ms``, ``p99_ms``) are over the last
  :data:`LATENCY_WINDOW` durations of each tool, by the nearest-rank method (:func:`percentile`:
  always a duration that was measured, never an interpolation);
* ``per_minute`` is the last 60 minutes (UTC, the current one last), each
  ``{"minute": "2026-12-01T09:30:00+00:00", "calls": n, "errors": n}``, counted by the minute a
  call was answered in; minutes without calls are there with zeros;
* ``clients`` are keyed ``"<client name>@<principal>"``, ``-`` standing for what is absent: the
  name is ``clientInfo.name`` of an MCP session (``-`` for REST, notebook and sessionless
  calls) and the principal the key label or token subject (``-`` without auth):
  ``"claude-ai@default"``, ``"-@ci"``, ``"-@-"``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nbmcp.monitor.records import CallRecord, iso_utc

__all__ = ["LATENCY_WINDOW", "ClientStats", "ToolStats", "Usage", "client_key", "percentile"]

LATENCY_WINDOW = 1000
"""Durations kept per tool for its percentiles."""

MINUTES = 60
"""Minutes ``per_minute`` covers."""


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile of ``ordered`` (sorted ascending) by nearest rank; ``None`` if empty.

    The smallest value with at least ``p`` % of the values at or below it: the value at rank
    ``ceil(p / 100 * n)`` (1-based). Of ``[1, 2, ..., 10]``, p50 is 5, p95 and p99 are 10.
    """
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


@dataclass(slots=True)
class ToolStats:
    """Running totals for one tool, and its last :data:`LATENCY_WINDOW` durations."""

    calls: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    last_called: float | None = None
    """Wall-clock start (``time.time()``) of the latest call answered."""

    @property
    def mean_seconds(self) -> float:
        """Average call duration."""
        return self.total_seconds / self.calls if self.calls else 0.0

    def add(self, record: CallRecord) -> None:
        """Count one finished call."""
        duration = record.duration or 0.0
        self.calls += 1
        self.errors += not record.ok
        self.total_seconds += duration
        if duration > self.max_seconds:
            self.max_seconds = duration
        self.latencies.append(duration)
        if self.last_called is None or record.started_at > self.last_called:
            self.last_called = record.started_at

    def summary(self) -> dict[str, Any]:
        """``{"calls", "errors", "p50_ms", "p95_ms", "p99_ms", "last_called"}`` (ISO 8601 or ``None``)."""
        ordered = sorted(self.latencies)
        return {
            "calls": self.calls,
            "errors": self.errors,
            "p50_ms": _ms(percentile(ordered, 50)),
            "p95_ms": _ms(percentile(ordered, 95)),
            "p99_ms": _ms(percentile(ordered, 99)),
            "last_called": None if self.last_called is None else iso_utc(self.last_called),
        }


@dataclass(slots=True)
class ClientStats:
    """Calls of one client name and principal."""

    name: str | None
    principal: str | None
    calls: int = 0
    errors: int = 0


def client_key(name: str | None, principal: str | None) -> str:
    """``"<client name>@<principal>"``, ``-`` for what is absent (see this module's docstring)."""
    return f"{name or '-'}@{principal or '-'}"


def _minute_iso(minute: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:00+00:00", time.gmtime(minute * 60))


class Usage:
    """The statistics of :func:`server.stats() <nbmcp.server.monitoring.Monitoring.stats>`.

    Not locked itself: :class:`~nbmcp.monitor.monitor.Monitor` calls :meth:`add` and
    :meth:`snapshot` under its lock.
    """

    def __init__(self) -> None:
        self.total_calls = 0
        self.errors = 0
        self.tools: dict[str, ToolStats] = {}
        self.clients: dict[str, ClientStats] = {}
        self._minutes: dict[int, list[int]] = {}
        """Minute (``time // 60``) -> ``[calls, errors]``, the last :data:`MINUTES` or so."""

    def add(self, record: CallRecord) -> None:
        """Count one finished call everywhere it counts."""
        failed = not record.ok
        self.total_calls += 1
        self.errors += failed
        stats = self.tools.get(record.tool)
        if stats is None:
            stats = self.tools[record.tool] = ToolStats()
        stats.add(record)
        client = record.client
        name = client.get("name") if client else None
        key = client_key(name, record.principal)
        seen = self.clients.get(key)
        if seen is None:
            seen = self.clients[key] = ClientStats(name or None, record.principal)
        seen.calls += 1
        seen.errors += failed
        minute = int((record.ended_at if record.ended_at is not None else record.started_at) // 60)
        bucket = self._minutes.get(minute)
        if bucket is None:
            bucket = self._minutes[minute] = [0, 0]
            if len(self._minutes) > MINUTES + 1:  # a new minute: forget those over an hour old
                for old in [m for m in self._minutes if m <= minute - MINUTES]:
                    del self._minutes[old]
        bucket[0] += 1
        bucket[1] += failed

    def per_minute(self, now: float | None = None) -> list[dict[str, Any]]:
        """The last :data:`MINUTES` minutes, oldest first, up to the one ``now`` (default: now) is in."""
        current = int((time.time() if now is None else now) // 60)
        rows = []
        for minute in range(current - MINUTES + 1, current + 1):
            calls, errors = self._minutes.get(minute, (0, 0))
            rows.append({"minute": _minute_iso(minute), "calls": calls, "errors": errors})
        return rows

    def copy(self) -> Usage:
        """A copy to read at leisure (taken under the monitor's lock; :meth:`snapshot` it outside)."""
        other = Usage()
        other.total_calls, other.errors = self.total_calls, self.errors
        for name, s in self.tools.items():
            other.tools[name] = ToolStats(
                s.calls, s.errors, s.total_seconds, s.max_seconds, deque(s.latencies), s.last_called
            )
        other.clients = {
            k: ClientStats(c.name, c.principal, c.calls, c.errors) for k, c in self.clients.items()
        }
        other._minutes = {m: list(b) for m, b in self._minutes.items()}
        return other

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Everything of ``server.stats()`` but ``uptime_s`` and ``in_flight``, as JSON-able values.

        Args:
            now: The clock for ``per_minute`` (default ``time.time()``).
        """
        return {
            "total_calls": self.total_calls,
            "errors": self.errors,
            "tools": {name: s.summary() for name, s in self.tools.items()},
            "clients": {
                key: {"name": c.name, "principal": c.principal, "calls": c.calls, "errors": c.errors}
                for key, c in self.clients.items()
            },
            "per_minute": self.per_minute(now),
        }
