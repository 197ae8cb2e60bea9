"""The live monitoring dashboard: ``%mcp monitor`` and ``server.dashboard()``.

:func:`show_dashboard` returns the widget (:class:`~nbmcp.notebook.dashboard.widget.Dashboard`)
where anywidget is installed, else a static snapshot
(:class:`~nbmcp.notebook.dashboard.static.StaticDashboard`). Importing this package imports
neither anywidget nor ipywidgets: ``Dashboard`` loads them on first use.

Parts: ``feed`` (the one queue and the one updater thread), ``panes`` (what each pane shows),
``timeline`` (the two-minute chart's counts), ``trycall`` (the "try it" form's calls),
``static`` (the fallback), ``widget`` (the anywidget and its inline view, in ``web/``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbmcp.notebook.dashboard.widget import Dashboard
    from nbmcp.server import MCPServer

__all__ = ["Dashboard", "show_dashboard"]


def show_dashboard(server: MCPServer, *, hz: float = 10.0) -> Any:
    """The live dashboard of ``server`` (one per server: shown again, the same widget returns).

    Args:
        server: The server to watch.
        hz: Updates per second at most (10 or fewer).

    Returns:
        The widget; a static snapshot (HTML and text) where anywidget or ipywidgets is missing,
        or where no kernel could carry a widget (a terminal IPython, a plain script).
    """
    if not _in_kernel():
        from nbmcp.notebook.dashboard.static import StaticDashboard

        return StaticDashboard(server)
    try:
        from nbmcp.notebook.dashboard.widget import Dashboard
    except ImportError:
        from nbmcp.notebook.dashboard.static import StaticDashboard

        return StaticDashboard(server)
    return Dashboard.of(server, hz=hz)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (where a widget has a frontend to reach)."""
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def __getattr__(name: str) -> Any:
    if name == "Dashboard":
        from nbmcp.notebook.dashboard.widget import Dashboard

        return Dashboard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
