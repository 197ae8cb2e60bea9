"""The call log: one JSON object a line per finished call (``log_calls=`` / ``nbmcp serve --log-calls``).

Each line is :meth:`CallRecord.to_json <nbmcp.monitor.records.CallRecord.to_json>` (secrets
redacted; arguments whole up to 64 KiB) with the fields ``id``, ``tool``, ``arguments``, ``ok``,
``error``, ``summary``, ``duration_ms``, ``started_at``, ``ended_at`` (ISO 8601, UTC),
``transport``, ``client``, ``session_id``, ``principal`` and ``output``.

The line goes to the file with one ``write(2)`` on a descriptor opened ``O_APPEND``, from
:meth:`Monitor.finish <nbmcp.monitor.monitor.Monitor.finish>`, that is before the answer is
encoded and sent: once a client has its answer, the line is in the operating system's hands, so
``kill -9`` of the server loses no answered call (no ``fsync``: a power cut may). Several
processes may append to one file; lines never interleave. The file is created with mode 0600
(arguments may hold personal data), and an existing one is narrowed to 0600.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from nbmcp.monitor.records import CallRecord

__all__ = ["CallLog", "open_private"]

logger = logging.getLogger("nbmcp")


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """Open (creating it) ``path`` readable and writable by its owner only; returns the descriptor."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file, or a umask that left more on
    except OSError:
        os.close(fd)
        raise
    return fd


class CallLog:
    """Appends each finished call's JSON line to a file (a monitor sink: ``monitor.add_sink(log.write)``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open ``path`` for appending (created 0600).

        Raises:
            OSError: it cannot be opened (a missing directory, no permission).
        """
        self.path = Path(path)
        self._fd: int | None = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        self._lock = threading.Lock()
        self._failed = False

    def write(self, record: CallRecord, line: bytes | None) -> None:
        """Append ``line`` (ending in a newline); a failure is logged once, never raised into a call.

        ``None`` (the monitor could not encode the record, and said so in the log) writes nothing.
        """
        with self._lock:
            fd = self._fd
            if fd is None or line is None:
                return
            try:
                written = os.write(fd, line)
                while written < len(line):  # a short write (a full disk, a signal): the rest
                    written += os.write(fd, line[written:])
            except OSError as exc:
                if not self._failed:
                    self._failed = True
                    logger.error("nbmcp: the call log %s could not be written: %s", self.path, exc)
                return
            self._failed = False

    def close(self) -> None:
        """Close the file (idempotent); later calls are not logged."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __repr__(self) -> str:
        return f"<CallLog {str(self.path)!r}{' closed' if self._fd is None else ''}>"
