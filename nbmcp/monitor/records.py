"""One tool call, start to end: the record every door writes and every view reads.

A record is opened when a call starts (so calls in flight are visible) and closed when the
answer is ready. Its fields are the call's whole story: which tool, with what, through which
door (``transport``), for whom (``client``, ``session_id``, ``principal``), how it ended and
how long it took, and what the tool printed. :meth:`CallRecord.to_dict` gives the JSON-able
form that journals and ``server.calls()`` share, with secrets redacted
(:mod:`nbmcp.monitor.redact`); :meth:`CallRecord.to_json` the line the call log and the SQLite
journal store.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

from nbmcp.monitor.redact import (
    CREDENTIAL_PREFIXES,
    JOURNAL_LIMIT,
    PLAIN_VALUES,
    cut_record,
    dumps,
    is_secret_name,
    redact_arguments,
    scrub,
)

__all__ = ["TRANSPORTS", "CallRecord", "iso_utc", "new_call_id", "summarize"]

TRANSPORTS = ("mcp", "rest", "notebook")
"""The doors a call can come through: MCP clients, the REST (Action) facade, the notebook."""

_SUMMARY_CHARS = 200
_prefix = os.urandom(4).hex()
_counter = itertools.count(1)


def new_call_id() -> str:
    """A call id unique in this process and unlikely to repeat across restarts."""
    return f"{_prefix}-{next(_counter):06d}"


_UTC = timezone.utc


def iso_utc(t: float) -> str:
    """``t`` (``time.time()``) as ISO 8601 UTC: ``2026-12-01T09:30:00.123456+00:00`` (the
    microseconds left out when they are 0, as ``datetime.isoformat`` and orjson both write it)."""
    return datetime.fromtimestamp(t, _UTC).isoformat()


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

    def to_dict(self, secrets: Collection[str] = ()) -> dict[str, Any]:
        """The JSON-able form: ISO 8601 UTC times, milliseconds, ``null`` for what is absent.

        Secrets are redacted (see :mod:`nbmcp.monitor.redact`): the values of arguments whose
        names look secret, values that look like bearer tokens, and any of ``secrets`` (the
        server's own keys) wherever they appear. Nothing is cut here (see :meth:`to_json`).
        """
        shown = self._fields(secrets)
        shown["started_at"] = shown["started_at"].isoformat()
        if shown["ended_at"] is not None:
            shown["ended_at"] = shown["ended_at"].isoformat()
        return shown

    def _fields(self, secrets: Collection[str], *, redact: bool = True) -> dict[str, Any]:
        """:meth:`to_dict`, but the times as ``datetime`` (orjson writes them the same, in C);
        ``redact=False`` when the arguments were seen to hold nothing to redact."""
        error, summary, output = self.error, self.summary, self.output
        if secrets:
            error = None if error is None else scrub(error, secrets)
            summary = None if summary is None else scrub(summary, secrets)
            output = scrub(output, secrets)
        ended = self.ended_at
        return {
            "id": self.id,
            "tool": self.tool,
            "arguments": redact_arguments(self.arguments, secrets) if redact else self.arguments,
            "ok": self.ok,
            "error": error,
            "summary": summary,
            "duration_ms": None if self.duration is None else self.duration * 1000.0,
            "started_at": datetime.fromtimestamp(self.started_at, _UTC),
            "ended_at": None if ended is None else datetime.fromtimestamp(ended, _UTC),
            "transport": self.transport,
            "client": self.client,
            "session_id": self.session_id,
            "principal": self.principal,
            "output": output,
        }

    def to_json(self, secrets: Collection[str] = (), limit: int = JOURNAL_LIMIT) -> bytes:
        """:meth:`to_dict` as one JSON line (ending in ``\\n``), as the call log and the journal keep it.

        Arguments are kept whole up to ``limit`` bytes of JSON, and the output, summary and
        error up to ``limit`` characters each; past that they are cut, with a marker (see
        :func:`~nbmcp.monitor.redact.cut_record`).

        With a call log it runs on the path of every call, before the answer leaves, so the
        common case (no server keys; arguments of plain names, strings and numbers) skips the
        redaction walk: one dict and one orjson call.
        """
        arguments = self.arguments
        plain = not secrets
        if plain:
            for key, value in arguments.items():
                kind = value.__class__
                if (
                    (kind is str and value.startswith(CREDENTIAL_PREFIXES))
                    or (kind is not str and kind not in PLAIN_VALUES)
                    or is_secret_name(key)
                ):
                    plain = False
                    break
        shown = self._fields(secrets, redact=not plain)
        try:
            line = orjson.dumps(shown, default=str, option=_LINE)
        except orjson.JSONEncodeError:  # an integer past 64 bits, from Python: the slow encoder
            line = dumps(shown, newline=True)
        if len(line) > limit:
            line = dumps(cut_record(self.to_dict(secrets), limit), newline=True)
        return line


_LINE = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
