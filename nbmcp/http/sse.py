"""Server-Sent Events: framing, and the per-stream event log that makes streams resumable.

Every SSE stream writes through a :class:`StreamLog`. A client that lost the connection
sends ``GET /mcp`` with ``Last-Event-ID`` and reads the same log from after that event:
what it missed first, then whatever the still-running request sends next.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import Any, Final

__all__ = ["StreamLog", "frame", "logs_of", "new_stream", "parse_event_id"]

_KEEP_STREAMS = 32
_KEEP_EVENTS = 1000


SSE_HEADERS: Final = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
"""The headers of every event stream (``X-Accel-Buffering: no``: proxies must not hold it back)."""

KEEPALIVE: Final = b": keepalive\n\n"
"""The comment line a quiet stream gets every ``sse_keepalive`` seconds."""


def frame(data: bytes, event_id: str | None = None, retry_ms: int | None = None) -> bytes:
    """One SSE event carrying a JSON-RPC message (``event: message``)."""
    parts = []
    if event_id is not None:
        parts.append(b"id: " + event_id.encode())
    if retry_ms is not None:
        parts.append(b"retry: " + str(retry_ms).encode())
    if data:
        parts.append(b"event: message")
    parts.append(b"data: " + data)
    return b"\n".join(parts) + b"\n\n"


def parse_event_id(value: str) -> tuple[str, int] | None:
    """Split an event id ``<stream>_<seq>`` into its parts."""
    stream_id, _, seq = value.rpartition("_")
    if not stream_id or not seq.isdigit():
        return None
    return stream_id, int(seq)


class StreamLog:
    """The events of one SSE stream, kept (bounded) so they can be replayed."""

    def __init__(self, stream_id: str) -> None:
        self.id = stream_id
        self.events: deque[tuple[int, bytes]] = deque(maxlen=_KEEP_EVENTS)
        self.seq = 0
        self.closed = False
        self.generation = 0
        """Bumped by :meth:`detach`; a follower of an older generation stops."""
        self._changed = asyncio.Event()

    def append(self, data: bytes) -> str:
        """Add one message; returns its event id."""
        self.seq += 1
        self.events.append((self.seq, data))
        self._changed.set()
        return f"{self.id}_{self.seq}"

    def detach(self) -> None:
        """Stop the current reader (the connection closes); events keep being logged."""
        self.generation += 1
        self._changed.set()

    def close(self) -> None:
        """No more events will come (the request was answered)."""
        self.closed = True
        self._changed.set()

    async def follow(
        self, after: int = 0, wait: float | None = None, keepalive: float | None = None
    ) -> AsyncIterator[tuple[str, bytes]]:
        """Yield ``(event_id, data)`` after ``after``, then new ones until closed.

        Args:
            wait: give up (and stop) after this many idle seconds; ``None`` waits on.
            keepalive: with ``wait`` unset, yield ``("", b"")`` after this many idle seconds
                (the writer sends an SSE comment, so proxies and tunnels keep the stream open).
        """
        last = after
        generation = self.generation
        while True:
            if self.generation != generation:
                return
            for seq, data in list(self.events):
                if seq > last:
                    last = seq
                    yield f"{self.id}_{seq}", data
            if self.closed:
                return
            self._changed.clear()
            if last < self.seq:
                continue
            try:
                await asyncio.wait_for(self._changed.wait(), wait if wait is not None else keepalive)
            except asyncio.TimeoutError:
                if wait is not None or keepalive is None:
                    return
                yield "", b""


def new_stream(store: dict[str, Any] | None) -> StreamLog:
    """A fresh log, remembered in ``store`` (a session's) so it can be resumed."""
    log = StreamLog(secrets.token_hex(6))
    if store is not None:
        logs = logs_of(store)
        logs[log.id] = log
        while len(logs) > _KEEP_STREAMS:
            logs.popitem(last=False)
    return log


def logs_of(store: dict[str, Any]) -> OrderedDict[str, StreamLog]:
    """The stream logs kept in a session's transport store."""
    logs = store.get("sse")
    if logs is None:
        logs = store["sse"] = OrderedDict()
    return logs
