"""MCP sessions: what one client negotiated, and the queue of messages it has not yet read.

A session lives on the server's event loop; only that loop touches it. Messages that belong
to no request (``list_changed``, resource updates, unrelated logs) wait in ``outbox`` until
the client's standalone stream (HTTP GET) takes them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from nbmcp.principal import Principal
from nbmcp.protocol.versions import LATEST_VERSION

__all__ = ["LOG_LEVELS", "Session", "Sessions"]

LOG_LEVELS: dict[str, int] = {
    name: rank
    for rank, name in enumerate(
        ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
    )
}

_OUTBOX_LIMIT = 1000


class Session:
    """One client's negotiated state.

    ``id`` is ``None`` for the throwaway session of a request sent without one (a plain POST
    from curl or ChatGPT, or any request in stateless mode).
    """

    __slots__ = (
        "_wakeup",
        "client_capabilities",
        "client_info",
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
        self.stream_open = False
        self.transport: dict[str, Any] = {}
        """State the transport keeps per session (e.g. SSE logs for resumption); opaque here."""

    def belongs_to(self, principal: Principal | None) -> bool:
        """Whether ``principal`` is the caller that opened this session (same key or subject)."""
        mine = self.principal
        if mine is None or principal is None:
            return mine is principal
        return mine.key == principal.key

    def wants_log(self, level: str) -> bool:
        """Whether a log message at ``level`` passes the client's ``logging/setLevel``."""
        if self.log_level is None:
            return True
        return LOG_LEVELS.get(level, 0) >= LOG_LEVELS.get(self.log_level, 0)

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
        """Note activity, postponing expiry."""
        self.last_seen = time.monotonic()


class Sessions:
    """The live sessions of one server, with idle expiry."""

    def __init__(self, ttl: float = 3600.0) -> None:
        self.ttl = ttl
        self._by_id: dict[str, Session] = {}
        self._last_sweep = time.monotonic()

    def create(self, version: str = LATEST_VERSION) -> Session:
        """Open a new session with an unguessable id."""
        self.sweep()
        session = Session(secrets.token_hex(16), version)
        self._by_id[session.id] = session  # type: ignore[index]
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session of that id, or ``None`` if unknown or expired."""
        session = self._by_id.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self.ttl and not session.stream_open:
            del self._by_id[session_id]
            return None
        session.last_seen = now
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
