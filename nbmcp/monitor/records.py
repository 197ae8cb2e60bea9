"""One tool call, start to end: the record every door writes and every view reads.

A record is opened when a call starts (so calls in flight are visible) and closed when the
answer is ready. Its fields are the call's whole story: which tool, with what, through which
door (``transport``), for whom (``client``, ``session_id``, ``principal``), how it ended and
how long it took, and what the tool printed. :meth:`CallRecord.to_dict` gives the JSON-able
form that journals and ``server.calls()`` share.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["TRANSPORTS", "CallRecord", "new_call_id", "summarize"]

TRANSPORTS = ("mcp", "rest", "notebook")
"""The doors a call can come through: MCP clients, the REST (Action) facade, the notebook."""

_SUMMARY_CHARS = 200
_prefix = os.urandom(4).hex()
_counter = itertools.count(1)


def new_call_id() -> str:
    """A call id unique in this process and unlikely to repeat across restarts."""
    return f"{_prefix}-{next(_counter):06d}"


def summarize(result: dict[str, Any]) -> str:
    """A one-line description of a ``tools/call`` result, for lists and feeds."""
    blocks = result.get("content") or []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "text":
            text = " ".join(str(block.get("text", "")).split())
            return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"
    kinds = [str(b.get("type")) for b in blocks if isinstance(b, dict)]
    return ", ".join(kinds) if kinds else "(no content)"


@dataclass(slots=True)
class CallRecord:
    """One tool call, open while it runs and closed with its outcome."""

    tool: str
    arguments: dict[str, Any]
    transport: str = "mcp"
    """``"mcp"``, ``"rest"`` or ``"notebook"``: the door the call came through."""
    session_id: str | None = None
    principal: str | None = None
    """Who called: a key's label or a token's subject; ``None`` when no auth was asked."""
    client: dict[str, str] | None = None
    """``{"name", "version"}`` from the client's ``clientInfo``; ``None`` when it sent none."""
    id: str = field(default_factory=new_call_id)
    started_at: float = field(default_factory=time.time)
    """Wall-clock start (``time.time()``)."""
    ended_at: float | None = None
    duration: float | None = None
    """Seconds from start to answer (monotonic clock); ``None`` while running."""
    ok: bool | None = None
    """``True`` answered, ``False`` failed (``isError``), ``None`` still running."""
    error: str | None = None
    summary: str | None = None
    """A one-line description of the result (see :func:`summarize`)."""
    output: str = ""
    """What the tool printed while it ran, when captured."""
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def running(self) -> bool:
        """Whether the call has not been answered yet."""
        return self.ended_at is None

    @property
    def duration_ms(self) -> float | None:
        """The duration in milliseconds, or ``None`` while running."""
        return None if self.duration is None else self.duration * 1000.0

    def finish(self, result: dict[str, Any], output: str = "") -> None:
        """Close the record with a ``tools/call`` result."""
        self.duration = time.perf_counter() - self._t0
        self.ended_at = self.started_at + self.duration
        failed = bool(result.get("isError"))
        self.ok = not failed
        self.summary = summarize(result)
        if failed:
            texts = [b.get("text") for b in result.get("content") or [] if isinstance(b, dict)]
            self.error = next((str(t) for t in texts if t is not None), self.summary)
        self.output = output

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form: ISO 8601 UTC times, milliseconds, ``null`` for what is absent."""

        def iso(t: float | None) -> str | None:
            return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()

        return {
            "id": self.id,
            "tool": self.tool,
            "arguments": self.arguments,
            "ok": self.ok,
            "error": self.error,
            "summary": self.summary,
            "duration_ms": self.duration_ms,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "transport": self.transport,
            "client": self.client,
            "session_id": self.session_id,
            "principal": self.principal,
            "output": self.output,
        }
