"""Monitoring: usage statistics, recent calls, and where call records are kept.

A mixin of :class:`~nbmcp.server.MCPServer`: :meth:`Monitoring.stats` and
:meth:`Monitoring.calls` read the server's :class:`~nbmcp.monitor.Monitor`;
``MCPServer(journal=..., log_calls=...)`` (or :meth:`~Monitoring.use_journal` and
:meth:`~Monitoring.use_call_log`, which ``nbmcp serve --journal/--log-calls`` use) keep every
finished call in a SQLite journal and a JSON-lines log. Every record shown or stored has the
server's own keys redacted (:mod:`nbmcp.monitor.redact`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from nbmcp.errors import NbmcpError
from nbmcp.monitor import Monitor
from nbmcp.monitor.jsonlines import CallLog
from nbmcp.server.state import ServerState

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbmcp.config import ServerConfig
    from nbmcp.monitor.journal import Journal
    from nbmcp.tools import Registry

__all__ = ["Monitoring"]

logger = logging.getLogger("nbmcp")


class Monitoring:
    """``stats``, ``calls``, the journal and the call log (see :class:`~nbmcp.MCPServer`)."""

    monitor: Monitor
    config: ServerConfig
    registry: Registry
    state: ServerState
    journal: Journal | None = None
    """The SQLite journal of every finished call, when one was asked for (``journal=``)."""
    call_log: CallLog | None = None
    """The JSON-lines call log, when one was asked for (``log_calls=``)."""
    _serving_since: float | None = None
    _unhook_journal: Callable[[], None] | None = None
    _unhook_log: Callable[[], None] | None = None

    def _init_monitoring(
        self, journal: str | os.PathLike[str] | None, log_calls: str | os.PathLike[str] | None
    ) -> None:
        """Point the monitor at the server's secrets; open the journal and the log asked for."""
        self.monitor.secrets = self._own_secrets
        if journal is not None:
            self.use_journal(journal)
        if log_calls is not None:
            self.use_call_log(log_calls)

    def _own_secrets(self) -> Collection[str]:
        """The keys this server accepts (the owner key, labelled keys, a generated one)."""
        config = self.config
        keys = config.api_keys
        if config.api_key:
            return (config.api_key, *keys.values()) if keys else (config.api_key,)
        return tuple(keys.values())

    # -- where records are kept ------------------------------------------------------------

    def use_journal(self, path: str | os.PathLike[str]) -> Journal:
        """Keep every finished call in the SQLite file ``path`` (created 0600; WAL, readable
        while serving and after a crash; see :mod:`nbmcp.monitor.journal`). Replaces the
        journal in use, if any.

        Raises:
            NbmcpError: the file cannot be created or is not a SQLite database (one line why).
        """
        import sqlite3

        from nbmcp.monitor.journal import Journal

        try:
            opened = Journal(path, secrets=self._own_secrets)
        except (OSError, sqlite3.Error) as exc:
            raise NbmcpError(f"journal {os.fspath(path)!r}: {_why(exc)}") from None
        self._drop_journal()
        self.journal = opened
        self._unhook_journal = self.monitor.add_sink(opened.add, needs_line=False)
        return opened

    def use_call_log(self, path: str | os.PathLike[str]) -> CallLog:
        """Append one JSON line per finished call to ``path`` (created 0600), each written
        before the call's answer leaves the server (see :mod:`nbmcp.monitor.jsonlines`).
        Replaces the log in use, if any.

        Raises:
            NbmcpError: the file cannot be opened for appending (one line why).
        """
        try:
            opened = CallLog(path)
        except OSError as exc:
            raise NbmcpError(f"call log {os.fspath(path)!r}: {_why(exc)}") from None
        self._drop_call_log()
        self.call_log = opened
        self._unhook_log = self.monitor.add_sink(opened.write)
        return opened

    def _drop_journal(self) -> None:
        journal, self.journal = self.journal, None
        if self._unhook_journal is not None:
            self._unhook_journal()
            self._unhook_journal = None
        if journal is not None:
            journal.close()

    def _drop_call_log(self) -> None:
        log, self.call_log = self.call_log, None
        if self._unhook_log is not None:
            self._unhook_log()
            self._unhook_log = None
        if log is not None:
            log.close()

    def _serving_began(self) -> None:
        """``start()`` bound the socket: uptime counts from now."""
        self._serving_since = time.time()

    def _serving_ended(self) -> None:
        """``stop()``: the journal writes what it has queued (files stay open: calls from
        Python are recorded while stopped, and ``start()`` may come again)."""
        self._serving_since = None
        journal = self.journal
        if journal is not None and not journal.flush():
            logger.warning("nbmcp: the call journal %s is still writing", journal.path)

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Usage statistics, JSON-able (see :mod:`nbmcp.monitor.stats` for each figure).

        ``{"total_calls", "errors", "tools": {name: {"calls", "errors", "p50_ms", "p95_ms",
        "p99_ms", "last_called"}}, "clients": {"<name>@<principal>": {"name", "principal",
        "calls", "errors"}}, "per_minute": [{"minute", "calls", "errors"}, ... 60], "uptime_s",
        "in_flight"}``. Counts run since the server was built; percentiles are over each tool's
        last 1,000 calls (nearest rank, milliseconds; ``None`` before its first call); every
        registered tool is listed, called or not. ``uptime_s`` is the seconds since the server
        began serving (0 while it does not serve).
        """
        shown = self.monitor.snapshot()
        tools: dict[str, dict[str, Any]] = shown["tools"]
        for name in list(self.registry.tools):
            tools.setdefault(
                name,
                {
                    "calls": 0,
                    "errors": 0,
                    "p50_ms": None,
                    "p95_ms": None,
                    "p99_ms": None,
                    "last_called": None,
                },
            )
        since = self._serving_since
        if since is None and self.state is ServerState.RUNNING:
            since = self.monitor.created  # started without the hook: since the server was built
        in_flight = shown.pop("in_flight")
        shown["uptime_s"] = round(max(0.0, time.time() - since), 3) if since is not None else 0.0
        shown["in_flight"] = in_flight
        return shown

    def calls(
        self, limit: int = 100, tool: str | None = None, errors_only: bool = False
    ) -> list[dict[str, Any]]:
        """The last finished calls (of the last 1,000 kept in memory), newest first, as dicts.

        The fields of the JSON-lines log: ``id``, ``tool``, ``arguments``, ``ok``, ``error``
        (``None`` on success), ``summary``, ``duration_ms``, ``started_at`` and ``ended_at``
        (ISO 8601 UTC), ``transport``, ``client`` (``None`` without clientInfo), ``session_id``,
        ``principal`` (``None`` without auth) and ``output``; secrets redacted, arguments whole
        up to 64 KiB. Calls still running are in ``server.monitor.running``.

        Args:
            limit: At most this many.
            tool: Only this tool's calls.
            errors_only: Only the calls that failed.
        """
        monitor = self.monitor
        return [monitor.record_dict(r) for r in monitor.recent(limit, tool, errors_only)]

    def dashboard(self) -> Any:
        """The live dashboard widget (what ``%mcp monitor`` shows): calls, tools, stats, schema, connect.

        In a kernel with a widget frontend it is an anywidget; elsewhere (a script, a terminal)
        a static snapshot with an HTML and a text form. The widget lives in the notebook layer
        (the only one that imports IPython and widget libraries), so it is loaded by name here
        rather than imported: the server layer never depends on it.
        """
        import importlib

        views = importlib.import_module("nbmcp.notebook.dashboard")
        return views.show_dashboard(self)


def _why(exc: BaseException) -> str:
    """One line for an open error: ``No such file or directory`` rather than the errno tuple."""
    return str(getattr(exc, "strerror", None) or exc)
