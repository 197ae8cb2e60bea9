"""What each pane of the dashboard shows, as JSON-able dicts built from the server's public API.

The updater (:mod:`nbmcp.notebook.dashboard.feed`) calls these on its own thread and pushes the
results as widget state; the static fallback (:mod:`nbmcp.notebook.dashboard.static`) renders
the same dicts as HTML and text. Every value is cut to a size a browser shows at 10 updates a
second: the journal keeps the whole call, the dashboard shows enough of it.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import orjson

from nbmcp.errors import NbmcpError

if TYPE_CHECKING:
    from nbmcp.monitor import CallRecord, Monitor
    from nbmcp.server import MCPServer

__all__ = ["call_row", "connect_pane", "cut", "schema_pane", "server_pane", "tools_pane", "totals_pane"]

SHOWN_CHARS = 4000
"""How much of a call's arguments, output or error one feed row carries."""


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text``, or its first ``limit`` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... {len(text) - limit} more characters]"


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)


def _ms(value: Any) -> float | None:
    """A latency rounded for display (``None`` stays ``None``; NaN becomes ``None``)."""
    if not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return round(float(value), 2)


def server_pane(server: MCPServer, stats: dict[str, Any]) -> dict[str, Any]:
    """Name, local and public URL, auth, connected clients, tunnel, and when it started.

    ``started`` is a whole epoch second, so the view counts the uptime itself and the pane
    changes only when the facts do.
    """
    uptime = stats.get("uptime_s")
    public = server.public_url
    return {
        "name": server.name,
        "state": server.state.value,
        "url": server.url,
        "public_url": f"{public.rstrip('/')}/mcp" if public else None,
        "auth_mode": server.auth_mode,
        "tunnel_state": server.tunnel_state,
        "publish_note": server.publish_note,
        "sessions": len(server.engine.sessions),
        "started": round(time.time() - float(uptime)) if server.url and uptime is not None else None,
    }


def totals_pane(stats: dict[str, Any]) -> dict[str, Any]:
    """The counters: calls answered, errors, calls in flight (exact: the monitor counts them)."""
    return {
        "total_calls": int(stats.get("total_calls", 0)),
        "errors": int(stats.get("errors", 0)),
        "in_flight": int(stats.get("in_flight", 0)),
    }


def tools_pane(server: MCPServer, stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Each tool: name, description, input schema (for the "try it" form), and its numbers."""
    per_tool = stats.get("tools") or {}
    rows = []
    for name, tool in list(server.tools.items()):
        numbers = per_tool.get(name) or {}
        rows.append(
            {
                "name": name,
                "title": tool.title,
                "description": cut(tool.description or "", 600),
                "input_schema": tool.args.schema,
                "calls": int(numbers.get("calls", 0)),
                "errors": int(numbers.get("errors", 0)),
                "p50_ms": _ms(numbers.get("p50_ms")),
                "p95_ms": _ms(numbers.get("p95_ms")),
                "p99_ms": _ms(numbers.get("p99_ms")),
                "last_called": numbers.get("last_called"),
            }
        )
    return rows


def call_row(monitor: Monitor, record: CallRecord, *, finished: bool) -> dict[str, Any]:
    """One line of the live feed: the call's record as the monitor shows it (secrets redacted,
    long values cut), plus ``state`` (``running``, ``ok`` or ``error``) and ``started`` (epoch).

    ``finished`` says the monitor's finish event for it was seen: until then the record may be
    half-closed by another thread, so it shows as running, and the finish event brings the
    final row.
    """
    row = monitor.record_dict(record, display=True)  # secrets redacted, long strings cut
    row["state"] = "ok" if finished and record.ok else ("error" if finished else "running")
    row["arguments"] = cut(_json(row["arguments"]))
    row["started"] = record.started_at
    if finished:
        row["output"] = row["output"] or ""
        row["duration_ms"] = _ms(row["duration_ms"])
    else:
        row.update(ok=None, error=None, duration_ms=None, ended_at=None, summary=None, output="")
    return row


def schema_pane(server: MCPServer) -> dict[str, Any]:
    """The ChatGPT Action schema as the checker sees it now: document, findings, ``ok``."""
    try:
        report = server.action_schema()
    except NbmcpError as exc:
        return {"document": None, "findings": [], "ok": False, "error": str(exc)}
    shown = report.as_dict()
    shown["operations"] = report.operations
    shown["error"] = None
    return shown


def connect_pane(server: MCPServer) -> dict[str, Any]:
    """Every client's ready-to-paste settings (``server.connect_info()``), in the order given."""
    try:
        info = server.connect_info()
    except NbmcpError as exc:
        return {"clients": [], "error": str(exc)}
    clients = [
        {
            "id": key,
            "title": str(item.get("title", key)),
            "steps": [str(step) for step in item.get("steps", [])],
            "snippet": str(item.get("snippet", "")),
            "format": str(item.get("format", "text")),
            "file": item.get("file"),
            "docs": item.get("docs"),
        }
        for key, item in info.items()
    ]
    return {"clients": clients, "error": None}
