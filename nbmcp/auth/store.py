"""Where the built-in authorization server keeps what must outlive a request.

The signing key, registered clients, refresh-token families and revoked token ids live behind
:class:`OAuthStore`, a small interface of named collections of JSON records, so a shared
backend (a database, Redis) can come later. Two stores ship:

- :class:`FileStore`: one JSON file under the user's config directory
  (``$XDG_CONFIG_HOME/nbmcp`` or ``~/.config/nbmcp``), created with mode 0600 in a 0700
  directory and rewritten atomically (a temporary file, fsync, rename) on every change, so
  tokens and registrations survive a server or kernel restart and a crash never leaves half
  a file.
- :class:`MemoryStore`: the same in memory, gone with the process.

Secrets the server hands out (refresh tokens, client secrets) are kept only as SHA-256
digests; the signing key is the one secret kept as is, which is why the file is 0600.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

import orjson

__all__ = ["FileStore", "MemoryStore", "OAuthStore", "config_dir", "digest", "store_path"]

Record = dict[str, Any]


def digest(secret: str) -> str:
    """The SHA-256 hex digest a secret is stored (and looked up) as."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def config_dir() -> Path:
    """nbmcp's directory under the user's config directory (``XDG_CONFIG_HOME`` honoured)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base.strip() else Path.home() / ".config"
    return root / "nbmcp"


def store_path(identity: str, directory: Path | None = None) -> Path:
    """The file for one server: ``oauth-<name>-<hash of its URL>.json``.

    ``identity`` is the server's name and base URL (``"weather http://127.0.0.1:8000"``): the
    same server at the same URL finds its file again; another server, or the same one at
    another URL, gets a file (and a signing key) of its own.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", identity.split(" ", 1)[0])[:40].strip("-.") or "server"
    tag = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return (directory or config_dir()) / f"oauth-{name}-{tag}.json"


class OAuthStore(Protocol):
    """Named collections (``clients``, ``refresh``...) of JSON records by key.

    Implementations are safe to call from several threads; every call sees the effect of the
    ones before it (a write is durable when it returns, for a persistent store).
    """

    def get(self, kind: str, key: str) -> Record | None:
        """The record, or ``None``."""
        ...

    def put(self, kind: str, key: str, value: Record) -> None:
        """Create or replace a record."""
        ...

    def delete(self, kind: str, key: str) -> None:
        """Remove a record (nothing if absent)."""
        ...

    def items(self, kind: str) -> list[tuple[str, Record]]:
        """Every record of a collection (a snapshot)."""
        ...

    def update(self, changes: list[tuple[str, str, Record | None]]) -> None:
        """Several puts (a record) and deletes (``None``) at once: all or none land."""
        ...


class MemoryStore:
    """An :class:`OAuthStore` in memory: nothing survives the process."""

    def __init__(self, data: dict[str, dict[str, Record]] | None = None) -> None:
        self._data: dict[str, dict[str, Record]] = data or {}
        self._lock = threading.RLock()

    def get(self, kind: str, key: str) -> Record | None:
        with self._lock:
            value = self._data.get(kind, {}).get(key)
            return copy.deepcopy(value) if value is not None else None

    def put(self, kind: str, key: str, value: Record) -> None:
        self.update([(kind, key, value)])

    def delete(self, kind: str, key: str) -> None:
        self.update([(kind, key, None)])

    def items(self, kind: str) -> list[tuple[str, Record]]:
        with self._lock:
            return [(k, copy.deepcopy(v)) for k, v in self._data.get(kind, {}).items()]

    def update(self, changes: list[tuple[str, str, Record | None]]) -> None:
        with self._lock:
            for kind, key, value in changes:
                if value is None:
                    self._data.get(kind, {}).pop(key, None)
                else:
                    self._data.setdefault(kind, {})[key] = copy.deepcopy(value)
            self._changed()

    def _changed(self) -> None:
        """Called under the lock after every change (a subclass persists here)."""


class FileStore(MemoryStore):
    """An :class:`OAuthStore` in one JSON file, mode 0600, replaced atomically on every change.

    A file that cannot be parsed is not overwritten silently: it is set aside as
    ``<name>.corrupt`` and the store starts empty (clients register again).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        super().__init__(self._load())

    def _load(self) -> dict[str, dict[str, Record]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
                raise ValueError("not a store")
            return data
        except ValueError:
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
            return {}

    def _changed(self) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = orjson.dumps(self._data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            if hasattr(os, "fchmod"):  # mkstemp already creates 0600; said again for clarity
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
