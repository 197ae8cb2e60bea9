"""Caps on what runs at once: tool calls per caller, SSE streams per session.

Both are counted on the server's event loop (no lock needed) and refused, when full, with
429, ``Retry-After: 1`` and a JSON-RPC error naming the cap: the client may retry as soon as
one of its calls or streams has ended. A cap of ``0`` means no cap.

- ``config.max_calls_per_principal``: ``tools/call`` requests in progress for one principal
  (or one client address when there is none), so one caller cannot take every worker thread.
  ``None`` (the default) follows ``rate_limit="auto"``: no cap while the server is local only
  (a notebook's own clients and benchmarks run as many calls as they like), and
  :data:`~nbmcp.config.DEFAULT_MAX_CALLS` once it is published or bound to another interface.
- ``config.max_streams_per_session``: SSE responses open at once on one session (POST
  streams, the standalone GET stream and resumed ones), each a connection and a buffer;
  16 by default, always (``None``: no cap).
"""

from __future__ import annotations

from nbmcp.config import DEFAULT_MAX_CALLS, ServerConfig
from nbmcp.http.limits import local_only
from nbmcp.protocol.session import Session

__all__ = ["CALLS_FULL", "STREAMS_FULL", "CallSlots", "close_stream", "open_stream"]

CALLS_FULL = "Too many tool calls in progress for this caller (at most {cap}): retry when one has finished"
STREAMS_FULL = "Too many open streams on this session (at most {cap}): retry when one has ended"

_STREAMS = "open_streams"


class CallSlots:
    """Tool calls in progress, per caller key (see :func:`nbmcp.http.limits.caller_key`)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._busy: dict[str, int] = {}

    def cap(self) -> int | None:
        """The cap in force now (``None``: none)."""
        cap = self.config.max_calls_per_principal
        if cap is None:
            return None if local_only(self.config) else DEFAULT_MAX_CALLS
        return cap or None

    def acquire(self, who: str, count: int = 1) -> bool:
        """Take ``count`` slots for ``who``; ``False`` (nothing taken) when that passes the cap."""
        cap = self.cap()
        busy = self._busy.get(who, 0)
        if cap and busy + count > cap:
            return False
        self._busy[who] = busy + count
        return True

    def release(self, who: str, count: int = 1) -> None:
        """Give back slots taken by :meth:`acquire`."""
        left = self._busy.get(who, 0) - count
        if left > 0:
            self._busy[who] = left
        else:
            self._busy.pop(who, None)

    def busy(self, who: str) -> int:
        """How many calls ``who`` has in progress."""
        return self._busy.get(who, 0)


def open_stream(session: Session, cap: int | None) -> bool:
    """Count one more open stream on ``session``; ``False`` (not counted) past ``cap``."""
    count: int = session.transport.get(_STREAMS, 0)
    if cap and count >= cap:
        return False
    session.transport[_STREAMS] = count + 1
    return True


def close_stream(session: Session) -> None:
    """A stream counted by :func:`open_stream` has ended."""
    session.transport[_STREAMS] = max(0, session.transport.get(_STREAMS, 0) - 1)
