"""The live dashboard: an anywidget whose view ships inline (no CDN), fed by one updater thread.

State is a handful of synced traits, one per pane (``facts``, ``totals``, ``tools``, ``feed``,
``timeline``, ``per_minute``, ``clients``, ``schema``, ``connect``, ``meta``); the
:class:`~nbmcp.notebook.dashboard.feed.Feed` sets those that changed, in one ``hold_sync()``
batch at most ten times a second, always from its own thread. The view's "try it" requests
arrive as custom messages (:mod:`nbmcp.notebook.dashboard.trycall`); answers leave through the
updater. The script is the files of ``web/`` joined in order, and the style ``web/dashboard.css``:
nothing is fetched at run time, so Binder and offline machines work.

Importing this module imports anywidget and ipywidgets; :func:`nbmcp.notebook.dashboard.show_dashboard`
does so only when a dashboard is asked for.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbmcp.notebook.dashboard.feed import MAX_HZ, Feed
from nbmcp.notebook.dashboard.static import render_html, render_text
from nbmcp.notebook.dashboard.trycall import start_call

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["SCRIPTS", "Dashboard", "script"]

_WEB = Path(__file__).parent / "web"
SCRIPTS = ("clipboard.js", "util.js", "charts.js", "feed.js", "form.js", "tools.js", "panes.js", "main.js")
"""The view's parts, in the order they are joined (only ``main.js`` exports)."""


def script() -> str:
    """The view's ES module: the parts of :data:`SCRIPTS` joined."""
    return "\n".join((_WEB / name).read_text(encoding="utf-8") for name in SCRIPTS)


_open: dict[int, Dashboard] = {}
_open_lock = threading.Lock()


class Dashboard(anywidget.AnyWidget):
    """One server's live dashboard (``%mcp monitor``). :meth:`close` stops its updater.

    Args:
        server: The server to watch.
        hz: State pushes per second at most (10 or fewer).
    """

    _esm = script()
    _css = (_WEB / "dashboard.css").read_text(encoding="utf-8")

    facts = traitlets.Dict().tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    tools: traitlets.List[Any] = traitlets.List().tag(sync=True)
    feed: traitlets.List[Any] = traitlets.List().tag(sync=True)
    timeline = traitlets.Dict().tag(sync=True)
    per_minute: traitlets.List[Any] = traitlets.List().tag(sync=True)
    clients = traitlets.Dict().tag(sync=True)
    schema = traitlets.Dict().tag(sync=True)
    connect = traitlets.Dict().tag(sync=True)
    meta = traitlets.Dict().tag(sync=True)

    def __init__(self, server: MCPServer, *, hz: float = MAX_HZ) -> None:
        self._server = server
        self.updater = Feed(server, self._apply, hz=hz)
        state = self.updater.open()
        try:
            super().__init__(**state, meta={"seq": 0, "events": 0, "dropped": 0, "hz": hz})
        except BaseException:
            self.updater.close()  # no listener left behind on the monitor
            raise
        self.on_msg(self._on_view_message)
        self.updater.start()

    @classmethod
    def of(cls, server: MCPServer, *, hz: float = MAX_HZ) -> Dashboard:
        """The server's open dashboard (one updater per server), else a new one."""
        with _open_lock:
            found = _open.get(id(server))
            if found is not None and found._server is server and found.comm is not None:
                if found.updater.alive and found.updater.interval == 1.0 / hz:
                    return found
                found.close()
            made = _open[id(server)] = cls(server, hz=hz)
            return made

    def _apply(self, changes: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        """Set the changed traits as one update message, then send the replies (updater thread)."""
        if self.comm is None:
            return
        with self.hold_sync():
            for name, value in changes.items():
                setattr(self, name, value)
        for message in messages:
            self.send(message)

    def _on_view_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        start_call(self._server, content, self.updater.post)

    def close(self) -> None:
        """Stop the updater and close the widget (its views go blank)."""
        self.updater.close()
        with _open_lock:
            if _open.get(id(self._server)) is self:
                del _open[id(self._server)]
        super().close()

    def _state_now(self) -> dict[str, Any]:
        return {"facts": self.facts, "totals": self.totals, "tools": self.tools, "feed": self.feed}

    def __repr__(self) -> str:
        return render_text(self._state_now())

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The live view, with a static HTML snapshot and a text table for frontends without widgets."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        state = self._state_now()
        return {**data, "text/html": render_html(state), "text/plain": render_text(state)}, metadata
