"""The call journal: every finished call in a SQLite file (``journal=`` / ``nbmcp serve --journal``).

Each call is kept as the call log's JSON object (every field, secrets redacted, arguments whole
up to 64 KiB of JSON, :data:`~nbmcp.monitor.redact.JOURNAL_LIMIT`; past that cut with a
``"$truncated"`` marker). The view ``calls`` has one row per call, in the order calls finished
(``seq``), with its fields as columns::

    SELECT tool, ok, duration_ms, principal, arguments FROM calls ORDER BY seq DESC LIMIT 10

(``seq``, ``id``, ``tool``, ``ok`` (1 or 0), ``error``, ``duration_ms``, ``started_at``,
``ended_at`` (ISO 8601 UTC), ``transport``, ``client_name``, ``client_version``, ``session_id``,
``principal``, ``summary``, ``arguments`` and ``output`` (JSON text), and ``record``, the
whole object). Underneath, the table ``call_batches`` holds one row per batch the writer
wrote: ``calls``, a JSON array of the calls of that batch, oldest first (UTF-8 bytes;
``CAST(calls AS TEXT)`` reads it). One insert per batch rather than per call keeps a busy
server's journal to a fraction of a microsecond a call. :func:`read_journal` reads the last
calls back as dicts, newest batch first, without expanding the whole file.

The file is in WAL mode, so it can be read while the server writes it (``sqlite3
'file:calls.db?mode=ro'``) and stays whole if the process dies: each batch is one
transaction. Calls are queued by :meth:`Journal.add` (on the call path: an append, nothing
more; without a call log the writer also encodes them, many at a time, off the call's path)
and written by a background thread every :data:`INTERVAL` seconds; a ``kill -9`` may
lose the calls of the last such interval (the JSON-lines call log loses none). Nothing is
fsynced (``synchronous=OFF``): what is committed survives the process, not a power cut. The
database file and its ``-wal``/``-shm`` companions are created with mode 0600.

Importing this module imports :mod:`sqlite3`; the server imports it only when a journal is asked for.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import orjson

from nbmcp.monitor.records import CallRecord

__all__ = ["BATCH_MAX", "INTERVAL", "Journal", "read_journal"]

logger = logging.getLogger("nbmcp")

INTERVAL = 0.05
"""Seconds between the writer's batches (at most this much of a journal is lost to ``kill -9``)."""

_FIELDS = (
    ("id", "$.id"),
    ("tool", "$.tool"),
    ("ok", "$.ok"),
    ("error", "$.error"),
    ("duration_ms", "$.duration_ms"),
    ("started_at", "$.started_at"),
    ("ended_at", "$.ended_at"),
    ("transport", "$.transport"),
    ("client_name", "$.client.name"),
    ("client_version", "$.client.version"),
    ("session_id", "$.session_id"),
    ("principal", "$.principal"),
    ("summary", "$.summary"),
    ("arguments", "$.arguments"),
    ("output", "$.output"),
)
BATCH_MAX = 10_000
"""Calls in one ``call_batches`` row at most (a bigger batch takes several rows)."""
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS call_batches (calls BLOB NOT NULL)",
    "CREATE VIEW IF NOT EXISTS calls AS SELECT seq, "
    + ", ".join(f"json_extract(record, '{path}') AS {name}" for name, path in _FIELDS)
    + ", record FROM (SELECT b.rowid * "
    + str(BATCH_MAX)
    + " + e.key AS seq, e.value AS record FROM call_batches AS b, json_each(CAST(b.calls AS TEXT)) AS e)",
)
_INSERT = "INSERT INTO call_batches (calls) VALUES (?)"
_OPEN: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # the writer is a daemon thread: write what is queued before the end
    for journal in list(_OPEN):
        journal.close()


class Journal:
    """Keeps every finished call in a SQLite file (a monitor sink: ``monitor.add_sink(journal.add)``)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        interval: float = INTERVAL,
        secrets: Callable[[], Collection[str]] | None = None,
    ) -> None:
        """Open (or create, mode 0600) the journal at ``path`` and start its writer thread.

        ``secrets`` gives the server's keys, redacted from the records the writer encodes itself
        (those :meth:`add` got without their line).

        Raises:
            OSError: the file cannot be created or opened.
            sqlite3.Error: it is not a SQLite database.
        """
        self.path = Path(path)
        try:  # a new journal is 0600 from its first byte (its -wal and -shm take its mode)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
            existing = False
        except FileExistsError:
            existing = True
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")  # no fsync: survives the process, not a power cut
            self._db.execute("PRAGMA busy_timeout=5000")
            for statement in _SCHEMA:
                self._db.execute(statement)
            if existing:  # a journal from before, perhaps looser: narrowed, once known to be one
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.chmod(f"{self.path}{suffix}", 0o600)
        except (sqlite3.Error, OSError):
            self._db.close()
            raise
        self.interval = interval
        self._pending: deque[bytes | CallRecord] = deque()
        self._secrets = secrets
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._busy = False
        self._closing = False
        self._failed = False
        self.written = 0
        """Rows written since opened."""
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="nbmcp-journal", daemon=True
        )
        self._thread.start()
        _OPEN.add(self)

    def add(self, record: CallRecord, line: bytes | None) -> None:
        """Queue a finished call (with its JSON line, if the monitor made one: else the writer
        encodes the record); the writer stores it shortly."""
        self._pending.append(record if line is None else line)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._done:
                self._busy = True
                closing = self._closing
            try:
                self._write()
            finally:
                with self._done:
                    self._busy = False
                    self._done.notify_all()
            if closing:
                return

    def _write(self) -> None:
        pending = self._pending
        secrets = self._secrets() if self._secrets is not None else ()
        lines: list[bytes] = []
        while pending:  # as the call log has them (a trailing newline is JSON whitespace)
            item = pending.popleft()
            lines.append(item if isinstance(item, bytes) else item.to_json(secrets))
        if not lines:
            return
        try:
            with self._db:  # one transaction: the batch is there whole or not at all
                self._db.execute("BEGIN")
                for at in range(0, len(lines), BATCH_MAX):
                    self._db.execute(_INSERT, (b"[" + b",".join(lines[at : at + BATCH_MAX]) + b"]",))
        except sqlite3.Error as exc:
            if not self._failed:
                self._failed = True
                logger.error("nbmcp: the call journal %s could not be written: %s", self.path, exc)
            return
        self._failed = False
        self.written += len(lines)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every call queued so far is written; ``False`` if that took over ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if self._thread is None or remaining <= 0:
                    return False
                self._wake.set()
                self._done.wait(min(remaining, self.interval))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the writer and close the file (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        with self._done:
            self._closing = True
        self._wake.set()
        thread.join(timeout)
        self._thread = None
        _OPEN.discard(self)
        if not thread.is_alive():
            self._db.close()

    def __repr__(self) -> str:
        return (
            f"<Journal {str(self.path)!r} written={self.written}{' closed' if self._thread is None else ''}>"
        )


def read_journal(
    path: str | os.PathLike[str], limit: int = 100, tool: str | None = None, errors_only: bool = False
) -> list[dict[str, Any]]:
    """The last calls in a journal file, newest first, as the call log's dicts (opened read-only).

    Works while a server writes the file, and after it crashed. Reads batches from the newest
    until ``limit`` calls of ``tool`` (failed ones only, with ``errors_only``) are found.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    found: list[dict[str, Any]] = []
    try:
        for (batch,) in db.execute("SELECT calls FROM call_batches ORDER BY rowid DESC"):
            for call in reversed(orjson.loads(batch)):
                if (tool is None or call.get("tool") == tool) and not (errors_only and call.get("ok")):
                    found.append(call)
                    if len(found) >= limit:
                        return found
    finally:
        db.close()
    return found
