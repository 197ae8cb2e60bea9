"""The one :class:`MCPServer` of this process (a kernel, or ``nbmcp serve NOTEBOOK``).

:func:`current_server` makes it on first use; the magics are sugar over it. It is stopped,
and its port freed, when the process ends (``atexit``, which a kernel's shutdown and restart
both run) or the extension is unloaded. Nothing here imports IPython.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nbmcp.notebook.mainthread import MainThreadExecutor

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["current_server", "main_thread_executor", "notebook_name", "peek_server", "set_namer", "shutdown"]

_lock = threading.Lock()
_server: MCPServer | None = None
_executor = MainThreadExecutor()
_hooked = False
_namer: Callable[[], str] | None = None


def set_namer(namer: Callable[[], str] | None) -> None:
    """How to name the server when it is made (the extension passes its ``name`` setting)."""
    global _namer
    _namer = namer


def notebook_name(namespace: dict[str, object] | None = None) -> str:
    """A server name from the notebook's file name (Jupyter tells the kernel), else ``notebook``."""
    candidates = [
        (namespace or {}).get("__session__"),
        (namespace or {}).get("__vsc_ipynb_file__"),
        os.environ.get("JPY_SESSION_NAME"),
    ]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            stem = Path(value).stem
            name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", stem).strip("-.")
            if name:
                return name[:64]
    return "notebook"


def current_server(name: str | None = None) -> MCPServer:
    """This kernel's server, made on first call (later calls return the same one).

    Args:
        name: The server's name when it is made now (ignored afterwards); by default the
            notebook's file name, or ``notebook``.
    """
    global _server, _hooked
    server = _server
    if server is not None:
        return server
    from nbmcp.server import MCPServer

    with _lock:
        if _server is None:
            _server = MCPServer(name or (_namer() if _namer is not None else notebook_name()))
            if not _hooked:
                atexit.register(shutdown)
                _hooked = True
        return _server


def peek_server() -> MCPServer | None:
    """The server if one was made, without making it."""
    return _server


def main_thread_executor() -> MainThreadExecutor:
    """Where ``--main-thread`` tools run (its home loop is set by the extension or the CLI)."""
    return _executor


def shutdown() -> None:
    """Stop serving and free the port (idempotent; the server and its tools stay)."""
    server = _server
    if server is not None:
        server.stop()
