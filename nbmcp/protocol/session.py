"""MCP sessions: what one client negotiated, and the queue of messages it has not yet read.

A session lives on the server's event loop; only that loop touches it. Messages that belong
to no request (``list_changed``, resource updates, unrelated logs) wait in ``outbox`` until
the client's standalone stream (HTTP GET) takes them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from nbmcp.principal import Principal
from nbmcp.protocol.envelope import Envelope
from nbmcp.protocol.versions import LATEST_VERSION

__all__ = ["LOG_LEVELS", "MAX_SESSIONS", "Session", "Sessions"]

LOG_LEVELS: dict[str, int] = {
    name: rank
    for rank, name in enumerate(
        ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
    )
}

_OUTBOX_LIMIT = 1000

MAX_SESSIONS = 1000
"""Live sessions one server keeps by default; past it the longest idle is ended first."""


class Session:
    """One client's negotiated state.

    ``id`` is ``None`` for the throwaway session of a request sent without one (a plain POST
    from curl or ChatGPT, or any request in stateless mode).
    """

    __slots__ = (
        "_sessions",
        "_wakeup",
        "client_capabilities",
        "client_info",
        "ended",
        "envelope",
        "id",
        "initialized",
        "last_seen",
        "log_level",
        "outbox",
        "principal",
        "stream_open",
        "subscriptions",
        "transport",
        "version",
    )

    def __init__(
        self,
        session_id: str | None = None,
        version: str = LATEST_VERSION,
        *,
        principal: Principal | None = None,
    ) -> None:
        self.id = session_id
        self.version = version
        self.principal = principal
        """Who opened the session; ``None`` without auth. Only the same caller may use it later."""
        self.client_info: dict[str, Any] = {}
        self.client_capabilities: dict[str, Any] = {}
        self.initialized = session_id is None
        self.log_level: str | None = None
        self.subscriptions: set[str] = set()
        self.last_seen = time.monotonic()
        self.outbox: deque[dict[str, Any]] = deque(maxlen=_OUTBOX_LIMIT)
        self._wakeup: asyncio.Event | None = None
        self._sessions: Sessions | None = None
        self.stream_open = False
        self.ended = False
        """Set when the server ended the session (evicted past the cap): its stream closes."""
        self.envelope: Envelope | None = None
        """A 2026-07-28 request's ``_meta`` envelope (``None``: a handshake-era session)."""
        self.transport: dict[str, Any] = {}
        """State the transport keeps per session (e.g. SSE logs for resumption); opaque here."""

    def belongs_to(self, principal: Principal | None) -> bool:
        """Whether ``principal`` is the caller that opened this session (same key or subject)."""
        mine = self.principal
        if mine is None or principal is None:
            return mine is principal
        return mine.key == principal.key

    def wants_log(self, level: str) -> bool:
        """Whether a log message at ``level`` passes the client's ``logging/setLevel``.

        Under 2026-07-28 the level comes with each request, and a request without one gets no
        log messages at all (the specification's rule).
        """
        threshold = self.log_level
        if self.envelope is not None:
            threshold = self.envelope.log_level
            if threshold is None:
                return False
        if threshold is None:
            return True
        return LOG_LEVELS.get(level, 0) >= LOG_LEVELS.get(threshold, 0)

    def push(self, message: dict[str, Any]) -> None:
        """Queue a message for the standalone stream (call on the server loop)."""
        if self.id is None:
            return
        self.outbox.append(message)
        if self._wakeup is not None:
            self._wakeup.set()

    async def next_messages(self, timeout: float) -> list[dict[str, Any]]:
        """Wait up to ``timeout`` seconds for queued messages and take them all."""
        if not self.outbox:
            if self._wakeup is None:
                self._wakeup = asyncio.Event()
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                return []
        taken = list(self.outbox)
        self.outbox.clear()
        return taken

    def touch(self) -> None:
        """Note activity, postponing expiry (and eviction: the most recently used goes last)."""
        self.last_seen = time.monotonic()
        if self._sessions is not None and self.id is not None:
            self._sessions.used(self.id)

    def end(self) -> None:
        """Mark the session ended and wake its standalone stream so that it closes."""
        self.ended = True
        if self._wakeup is not None:
            self._wakeup.set()


class Sessions:
    """The live sessions of one server, with idle expiry and a cap on how many live at once.

    Past ``max_sessions`` (``None`` or ``0``: no cap), opening a session ends the longest idle
    one first: sessions are kept in the order they were last used, so that is the first one
    without an open stream (a session streaming now is in use, not idle; only when every
    session streams is the least recently used of them ended, its stream closed). The count
    of live sessions therefore never passes the cap; an ended session's id is answered 404,
    and its client initializes again.
    """

    def __init__(self, ttl: float = 3600.0, max_sessions: int | None = MAX_SESSIONS) -> None:
        self.ttl = ttl
        self.max_sessions = max_sessions
        self._by_id: OrderedDict[str, Session] = OrderedDict()
        self._last_sweep = time.monotonic()
        self.evicted = 0
        """How many sessions the cap has ended so far."""

    def create(self, version: str = LATEST_VERSION) -> Session:
        """Open a new session with an unguessable id (ending the longest idle one at the cap)."""
        self.sweep()
        cap = self.max_sessions
        while cap and len(self._by_id) >= cap:
            self._evict()
        session = Session(secrets.token_hex(16), version)
        session._sessions = self
        self._by_id[session.id] = session  # type: ignore[index]
        return session

    def _evict(self) -> None:
        """End the least recently used session that is not streaming (else the least recent)."""
        by_id = self._by_id
        victim = next(iter(by_id))
        for _ in range(len(by_id)):
            sid, session = next(iter(by_id.items()))
            if not session.stream_open:
                victim = sid
                break
            by_id.move_to_end(sid)  # streaming now: in use, so among the most recent
        by_id.pop(victim).end()
        self.evicted += 1

    def used(self, session_id: str) -> None:
        """A session was just used: it becomes the last to be evicted (:meth:`Session.touch`)."""
        if session_id in self._by_id:
            self._by_id.move_to_end(session_id)

    def get(self, session_id: str) -> Session | None:
        """The live session of that id, or ``None`` if unknown or expired."""
        session = self._by_id.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self.ttl and not session.stream_open:
            del self._by_id[session_id]
            return None
        session.touch()  # the most recently used: the last to be evicted
        return session

    def remove(self, session_id: str) -> bool:
        """End a session; ``False`` if it was not there."""
        return self._by_id.pop(session_id, None) is not None

    def sweep(self) -> None:
        """Drop sessions idle past the ttl (at most once a minute)."""
        now = time.monotonic()
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for sid, session in list(self._by_id.items()):
            if now - session.last_seen > self.ttl and not session.stream_open:
                del self._by_id[sid]

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        """Forget every session (the server stopped)."""
        self._by_id.clear()
