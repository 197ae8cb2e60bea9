"""The dashboard's updater: one queue fed by the server's threads, one thread that drains it.

The monitor tells :meth:`Feed.listen` of every call's start and end, on whatever thread runs
the call; the listener only appends ``(record, started)`` to a deque (thread-safe, bounded by
:data:`QUEUE_LIMIT`) and wakes the updater. The updater, a thread of its own (never the
kernel's main thread, never an ``Output`` context), wakes at most ``hz`` times a second,
drains the whole queue, and hands the state that changed to ``push`` in one batch (the widget
applies it inside ``hold_sync()``: one comm message a tick however many calls came). Replies to
the view's requests (the "try it" results) leave through the same thread, in the same tick.

Totals come from ``server.stats()``, which the monitor keeps exactly, so a burst that outruns
the view changes how many rows it shows, never the counts. Every second the updater also
refreshes what changes without calls: sessions, the tunnel, the tool list, and (only when
tools, URLs or auth changed) the Action schema and the connect settings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbmcp.notebook.dashboard import panes
from nbmcp.notebook.dashboard.timeline import Timeline

if TYPE_CHECKING:
    from nbmcp.monitor import CallRecord
    from nbmcp.server import MCPServer

__all__ = ["MAX_HZ", "QUEUE_LIMIT", "Feed", "Push"]

logger = logging.getLogger("nbmcp")

Push = Callable[[dict[str, Any], list[dict[str, Any]]], None]
"""``push(changed_state, messages)``: apply the traits that changed, then send the messages."""

MAX_HZ = 10.0
QUEUE_LIMIT = 100_000
"""Events waiting at most (the updater drains them all ten times a second)."""
ROWS = 100
"""The newest calls the feed shows, plus :data:`PER_TOOL` of each tool and every call in flight."""
PER_TOOL = 20
RUNNING_SHOWN = 50
SLOW_SECONDS = 1.0
BUSY_EVENTS = 50
"""Calls finished since the feed's last push past which the feed counts as busy."""
BUSY_FEED_SECONDS = 0.5
"""While busy, the feed's rows (the bulk of a push) go at most this often; totals still go
every tick, and the last rows follow within a second once the calls stop."""


class Feed:
    """Turns the monitor's events into dashboard state, batched at most ``hz`` times a second.

    Args:
        server: The server to watch.
        push: Called on the updater thread with what changed (see :data:`Push`).
        hz: Pushes per second at most (10 or fewer).
    """

    def __init__(self, server: MCPServer, push: Push, *, hz: float = MAX_HZ) -> None:
        if not 0 < hz <= MAX_HZ:
            raise ValueError(f"hz must be in (0, {MAX_HZ:g}], not {hz!r}")
        self.server = server
        self.interval = 1.0 / hz
        self._push = push
        self._events: deque[tuple[CallRecord, bool]] = deque(maxlen=QUEUE_LIMIT)
        self._outbox: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: dict[str, CallRecord] = {}
        self._done: deque[CallRecord] = deque(maxlen=ROWS)
        self._per_tool: dict[str, deque[CallRecord]] = {}
        self._rows: dict[str, dict[str, Any]] = {}
        self._timeline = Timeline()
        self._last: dict[str, Any] = {}
        self._documents_key: tuple[Any, ...] | None = None
        self._thread: threading.Thread | None = None
        self._seen_early: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self.finished = 0
        """Finish events the updater has drained (each call once)."""
        self.dropped = 0
        """Events the full queue pushed out (their calls still count in the totals)."""
        self.pushes = 0
        self._feed_at = 0.0
        self._feed_events = 0
        self._feed_stale = False

    # -- the server's side ------------------------------------------------------------------

    def listen(self, record: CallRecord) -> None:
        """The monitor's listener: queue the event and wake the updater (quick, any thread)."""
        if len(self._events) >= QUEUE_LIMIT:
            self.dropped += 1
        self._events.append((record, record.ok is None))
        if not self._wake.is_set():
            self._wake.set()

    def post(self, message: dict[str, Any]) -> None:
        """Send ``message`` to the view on the next tick (any thread)."""
        self._outbox.append(message)
        self._wake.set()

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> dict[str, Any]:
        """Subscribe and return the whole state to open the widget with (then :meth:`start`).

        The calls already in flight and the monitor's recent journal fill the feed, so a
        dashboard opened late shows the history too.
        """
        monitor = self.server.monitor
        self._unsubscribe = monitor.subscribe(self.listen, starts=True)
        for record in list(monitor.journal)[-ROWS:]:
            self._seen_early.add(record.id)
            self._finish(record, count=True)
        for record in list(monitor.running.values()):
            self._running.setdefault(record.id, record)
        state = self._state(drained=True, slow=True)
        self._last = dict(state)
        return state

    def start(self) -> None:
        """Start the updater thread (after the widget holds the state :meth:`open` gave)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nbmcp-dashboard", daemon=True)
            self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the updater thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float = 2.0) -> None:
        """Unsubscribe and stop the updater (idempotent)."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the updater ------------------------------------------------------------------------

    def _run(self) -> None:
        last_push = last_slow = 0.0
        while not self._stop.is_set():
            self._wake.wait(SLOW_SECONDS)
            pause = last_push + self.interval - time.monotonic()
            if self._stop.is_set() or (pause > 0 and self._stop.wait(pause)):
                return
            self._wake.clear()
            now = time.monotonic()
            slow = now - last_slow >= SLOW_SECONDS
            if slow:
                last_slow = now
            try:
                self.tick(slow=slow)
            except Exception:  # one bad tick must not end the updater: the next one tries again
                logger.exception("nbmcp: the dashboard's updater failed")
            last_push = time.monotonic()

    def tick(self, *, slow: bool = False) -> bool:
        """Drain the queue and push what changed; returns whether anything was pushed."""
        drained = self._drain()
        messages = []
        while self._outbox:
            messages.append(self._outbox.popleft())
        state = self._state(drained=drained, slow=slow)
        changes = {key: value for key, value in state.items() if self._last.get(key) != value}
        if not changes and not messages:
            return False
        self.pushes += 1
        changes["meta"] = self._meta()
        self._last.update(changes)
        self._push(changes, messages)
        return True

    def _drain(self) -> bool:
        drained = False
        while True:
            try:
                record, started = self._events.popleft()
            except IndexError:
                return drained
            drained = True
            if started:
                self._running[record.id] = record
                continue
            self.finished += 1
            early = record.id in self._seen_early  # already taken from the journal by open()
            if early:
                self._seen_early.discard(record.id)
            self._finish(record, count=not early)

    def _finish(self, record: CallRecord, *, count: bool) -> None:
        self._running.pop(record.id, None)
        self._done.append(record)
        recent = self._per_tool.get(record.tool)
        if recent is None:
            recent = self._per_tool[record.tool] = deque(maxlen=PER_TOOL)
        recent.append(record)
        if count:
            self._timeline.count(record.ended_at or time.time(), bool(record.ok))

    def _meta(self) -> dict[str, Any]:
        return {"seq": self.pushes, "events": self.finished, "dropped": self.dropped, "hz": 1 / self.interval}

    def _state(self, *, drained: bool, slow: bool) -> dict[str, Any]:
        server = self.server
        state: dict[str, Any] = {"timeline": self._timeline.view()}
        if drained or slow:
            stats = server.stats()
            state["totals"] = panes.totals_pane(stats)
            state["tools"] = panes.tools_pane(server, stats)
            state["facts"] = panes.server_pane(server, stats)
            state["clients"] = stats.get("clients") or {}
            state["per_minute"] = stats.get("per_minute") or []
        if drained or self._feed_stale or not self._last:
            if self._feed_due():
                state["feed"] = self._feed_rows()
                self._feed_at, self._feed_events, self._feed_stale = time.monotonic(), self.finished, False
            else:
                self._feed_stale = True
        if slow:
            key = (
                tuple((name, id(tool)) for name, tool in list(server.tools.items())),
                server.url,
                server.public_url,
                server.auth_mode,
            )
            if key != self._documents_key:
                self._documents_key = key
                state["schema"] = panes.schema_pane(server)
                state["connect"] = panes.connect_pane(server)
        return state

    def _feed_due(self) -> bool:
        """Whether the feed's rows go in this push: always, unless many calls came since the
        last rows went and that was less than :data:`BUSY_FEED_SECONDS` ago (then a later
        tick, within a second, sends them)."""
        if not self._last:
            return True
        busy = self.finished - self._feed_events >= BUSY_EVENTS
        return not busy or time.monotonic() - self._feed_at >= BUSY_FEED_SECONDS

    def _feed_rows(self) -> list[dict[str, Any]]:
        chosen: dict[str, CallRecord] = {}
        running = sorted(self._running.values(), key=lambda r: r.started_at)[-RUNNING_SHOWN:]
        for record in [*running, *self._done, *(r for d in self._per_tool.values() for r in d)]:
            chosen[record.id] = record
        ordered = sorted(chosen.values(), key=lambda r: r.started_at, reverse=True)
        rows = []
        cache: dict[str, dict[str, Any]] = {}
        for record in ordered:
            if record.id in self._running:
                rows.append(panes.call_row(self.server.monitor, record, finished=False))
                continue
            row = self._rows.get(record.id) or panes.call_row(self.server.monitor, record, finished=True)
            cache[record.id] = row  # a finished row is final: built once, dropped once out of view
            rows.append(row)
        self._rows = cache
        return rows
