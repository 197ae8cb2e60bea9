"""What both tunnel doubles share: the edge's event loop, the TLS files, the record file.

The doubles run as real executables (launchers written by :mod:`tests.tunnel.kit`). They read:

- ``NBMCP_TEST_TLS_DIR``: holds ``edge.pem`` (the key and certificate chain for the public names);
- ``NBMCP_FAKE_RECORD_DIR`` (optional): each run writes ``<program>-<pid>.json`` there: its argv,
  what it understood of its config (never the token itself), its URLs, what it held or captured;
- ``NBMCP_FAKE_MODE`` (optional): ``fail`` (the provider refuses) or ``hang`` (say nothing more
  after the first line), for the error paths.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from edge import tls_context

T = TypeVar("T")


def mode() -> str:
    return os.environ.get("NBMCP_FAKE_MODE", "").strip().lower()


def edge_context() -> ssl.SSLContext:
    folder = os.environ.get("NBMCP_TEST_TLS_DIR")
    if not folder:
        print("NBMCP_TEST_TLS_DIR is not set: the double has no certificate", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return tls_context(os.path.join(folder, "edge.pem"))


class Loop:
    """An asyncio loop on a daemon thread, for the edges; other threads call into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="edge-loop", daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


class Record:
    """The run's record file (rewritten whole on each change; absent without a record dir)."""

    def __init__(self, program: str, argv: list[str]) -> None:
        folder = os.environ.get("NBMCP_FAKE_RECORD_DIR")
        self.path = os.path.join(folder, f"{program}-{os.getpid()}.json") if folder else None
        self.data: dict[str, Any] = {"program": program, "pid": os.getpid(), "argv": argv}
        self.lock = threading.Lock()
        self.write()

    def update(self, **fields: Any) -> None:
        with self.lock:
            self.data.update(fields)
            self._write()

    def append(self, key: str, item: Any) -> None:
        with self.lock:
            self.data.setdefault(key, []).append(item)
            self._write()

    def add(self, key: str, amount: int = 1) -> None:
        with self.lock:
            self.data[key] = self.data.get(key, 0) + amount
            self._write()

    def write(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        temporary = f"{self.path}.tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(self.data, out)
        os.replace(temporary, self.path)
