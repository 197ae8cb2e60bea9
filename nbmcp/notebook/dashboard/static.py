"""The dashboard where no widget runs: a static HTML snapshot and a text table.

nbconvert, a terminal, a notebook viewer, or a Jupyter without the widget extension shows
the ``text/html`` (or ``text/plain``) beside the widget's view in the same output; without
anywidget, :class:`StaticDashboard` is all there is. The snapshot holds the server's facts,
each tool's numbers and the last calls' tool, outcome and duration: never arguments, results
or output, since a saved notebook keeps its outputs (and arguments can hold personal data).
"""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nbmcp.notebook.dashboard import panes

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["StaticDashboard", "render_html", "render_text", "snapshot"]

LAST_CALLS = 20


def snapshot(server: MCPServer) -> dict[str, Any]:
    """The state a static view shows: ``facts``, ``totals``, ``tools``, ``feed`` (newest first)."""
    stats = server.stats()
    journal = list(server.monitor.journal)[-LAST_CALLS:]
    return {
        "facts": panes.server_pane(server, stats),
        "totals": panes.totals_pane(stats),
        "tools": panes.tools_pane(server, stats),
        "feed": [panes.call_row(server.monitor, r, finished=True) for r in reversed(journal)],
    }


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _clock(epoch: Any) -> str:
    return datetime.fromtimestamp(float(epoch)).strftime("%H:%M:%S") if epoch else "-"


def _facts(state: dict[str, Any]) -> list[tuple[str, str]]:
    server, totals = state.get("facts") or {}, state.get("totals") or {}
    started = server.get("started")
    uptime = f"{int(time.time() - started)} s" if started else "-"
    calls, errors, running = (totals.get(k, 0) for k in ("total_calls", "errors", "in_flight"))
    return [
        ("server", str(server.get("name", ""))),
        ("local", server.get("url") or "not serving (%mcp start)"),
        ("public", server.get("public_url") or "not published"),
        ("auth", str(server.get("auth_mode", ""))),
        ("tunnel", str(server.get("tunnel_state", ""))),
        ("uptime", uptime),
        ("clients", str(server.get("sessions", 0))),
        ("calls", f"{calls} ({errors} errors, {running} in flight)"),
    ]


def _rows(state: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    tools = [
        [t["name"], str(t["calls"]), str(t["errors"]), _ms(t["p95_ms"])] for t in state.get("tools") or []
    ]
    calls = [
        [_clock(r.get("started")), r["tool"], r["state"], _ms(r.get("duration_ms")), str(r.get("transport"))]
        for r in (state.get("feed") or [])[:LAST_CALLS]
    ]
    return tools, calls


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p style='color:#666'>{html.escape(empty)}</p>"
    cell = "style='text-align:left;padding:1px 8px 1px 0'"
    head = "".join(f"<th {cell}>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td {cell}>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(state: dict[str, Any]) -> str:
    """The snapshot as self-contained HTML (inline styles, no script)."""
    facts = "".join(
        f"<tr><th style='text-align:left;padding-right:10px'>{html.escape(k)}</th>"
        f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
        for k, v in _facts(state)
    )
    tools, calls = _rows(state)
    return (
        "<div class='nbmcp-dashboard nbmcp-dashboard-static' "
        "style='border:1px solid #ccc;border-radius:6px;padding:8px 10px'>"
        "<div><b>nbmcp dashboard</b> <small style='color:#666'>(a snapshot: run the cell in a live "
        "kernel with ipywidgets for the live view)</small></div>"
        f"<table>{facts}</table>"
        "<h4 style='margin:8px 0 2px'>Tools</h4>"
        + _table(["tool", "calls", "errors", "p95"], tools, "no tools yet")
        + "<h4 style='margin:8px 0 2px'>Last calls</h4>"
        + _table(["time", "tool", "outcome", "duration", "via"], calls, "no calls yet")
        + "</div>"
    )


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join
    return [
        line(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        *(line(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows),
    ]


def render_text(state: dict[str, Any]) -> str:
    """The snapshot as plain text (terminals, logs, ``print(dashboard)``)."""
    width = max(len(k) for k, _ in _facts(state))
    lines = ["nbmcp dashboard (snapshot)", *(f"  {k.ljust(width)}  {v}" for k, v in _facts(state))]
    tools, calls = _rows(state)
    if tools:
        lines += ["", *(f"  {x}" for x in _text_table(["tool", "calls", "errors", "p95"], tools))]
    if calls:
        lines += ["", *(f"  {x}" for x in _text_table(["time", "tool", "outcome", "duration", "via"], calls))]
    return "\n".join(lines)


class StaticDashboard:
    """What :func:`~nbmcp.notebook.dashboard.show_dashboard` returns without anywidget: a snapshot
    taken each time it is shown."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    def __repr__(self) -> str:
        return render_text(snapshot(self.server))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        state = snapshot(self.server)
        return {"text/html": render_html(state), "text/plain": render_text(state)}
