"""``%mcp stats`` and ``%mcp monitor``: the server's usage, as a table and as the live dashboard.

``%mcp stats`` returns :class:`StatsView`: plain text in terminals and logs (its ``repr``),
HTML tables in a notebook; its numbers are those of ``server.stats()``, taken once.
``%mcp monitor`` shows the dashboard (:mod:`nbmcp.notebook.dashboard`, imported only then).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from nbmcp.notebook.display import Table

if TYPE_CHECKING:
    from nbmcp.notebook.commands import MagicsSettings

__all__ = ["StatsView", "cmd_monitor", "cmd_stats"]

_RECENT_MINUTES = 10
"""Minutes of ``per_minute`` the table shows (the dict has the hour)."""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _when(value: str | None) -> str:
    """``2026-12-01T09:30:00.123456+00:00`` as ``2026-12-01 09:30:00 UTC``."""
    return "-" if not value else value[:19].replace("T", " ") + " UTC"


class StatsView:
    """``%mcp stats``: the totals line, then a table per tool, per client, and the last minutes."""

    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats
        """The ``server.stats()`` dict shown."""

    def totals(self) -> str:
        """``calls 4  errors 1  in flight 0  uptime 12.3 s``."""
        s = self.stats
        return (
            f"calls {s['total_calls']}  errors {s['errors']}  in flight {s['in_flight']}  "
            f"uptime {s['uptime_s']:.1f} s"
        )

    def tools(self) -> Table:
        rows = [
            [
                name,
                str(t["calls"]),
                str(t["errors"]),
                _ms(t["p50_ms"]),
                _ms(t["p95_ms"]),
                _ms(t["p99_ms"]),
                _when(t["last_called"]),
            ]
            for name, t in sorted(self.stats["tools"].items())
        ]
        header = ["tool", "calls", "errors", "p50 ms", "p95 ms", "p99 ms", "last called"]
        return Table(header, rows, empty="(no tools)")

    def clients(self) -> Table:
        rows = [
            [c["name"] or "-", c["principal"] or "-", str(c["calls"]), str(c["errors"])]
            for _, c in sorted(self.stats["clients"].items(), key=lambda kv: (-kv[1]["calls"], kv[0]))
        ]
        return Table(["client", "principal", "calls", "errors"], rows, empty="(no calls yet)")

    def minutes(self) -> Table:
        recent = self.stats["per_minute"][-_RECENT_MINUTES:]
        rows = [[m["minute"][11:16] + " UTC", str(m["calls"]), str(m["errors"])] for m in recent]
        return Table(["minute", "calls", "errors"], rows)

    def __repr__(self) -> str:
        sections = [
            self.totals(),
            repr(self.tools()),
            repr(self.clients()),
            f"the last {_RECENT_MINUTES} minutes:\n" + repr(self.minutes()),
        ]
        return "\n\n".join(sections)

    def _repr_html_(self) -> str:
        parts = [
            f"<p><b>{html.escape(self.totals())}</b></p>",
            self.tools()._repr_html_(),
            self.clients()._repr_html_(),
            f"<p>The last {_RECENT_MINUTES} minutes:</p>",
            self.minutes()._repr_html_(),
        ]
        return "<div class='nbmcp-stats'>" + "".join(parts) + "</div>"


def cmd_stats(magics: MagicsSettings, args: Any) -> StatsView:
    """``%mcp stats``: usage statistics as a table (``.stats`` holds the dict)."""
    return StatsView(magics.server.stats())


def cmd_monitor(magics: MagicsSettings, args: Any) -> Any:
    """``%mcp monitor``: the live dashboard of the kernel's server."""
    from nbmcp.notebook.dashboard import show_dashboard

    return show_dashboard(magics.server)
