"""Call records made by hand for the unit tests: a tool, arguments, an outcome, a duration."""

from __future__ import annotations

from typing import Any

from nbmcp.monitor import CallRecord


def finished(
    tool: str = "add",
    arguments: dict[str, Any] | None = None,
    *,
    seconds: float = 0.001,
    ok: bool = True,
    started_at: float | None = None,
    client: dict[str, str] | None = None,
    principal: str | None = None,
    text: str = "3",
    output: str = "",
) -> CallRecord:
    """A closed record that took exactly ``seconds`` and ended ``ok`` (or with ``text`` as its error)."""
    record = CallRecord(tool, dict(arguments or {}), client=client, principal=principal)
    if started_at is not None:
        record.started_at = started_at
    record.finish({"content": [{"type": "text", "text": text}], "isError": not ok}, output)
    record.duration = seconds  # the measured duration replaced by a known one
    record.ended_at = record.started_at + seconds
    return record
