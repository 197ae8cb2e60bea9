"""``nbmcp serve NOTEBOOK.ipynb``: run a notebook's code cells, then serve its tools.

The cells run top to bottom in a real IPython shell in this process, magics included, so the
tools find the notebook's globals here, as they would in a kernel. ``%mcp start`` serves on the
command line's host and port; ``%mcp stop`` is ignored. A cell that fails stops the load with
its traceback, unless the cell is tagged ``raises-exception``. While serving, the main thread
runs the ``--main-thread`` tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from nbmcp.errors import TargetError
from nbmcp.notebook.kernel import current_server, main_thread_executor

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["CodeCell", "load_notebook", "read_code_cells", "serve_notebook"]


@dataclass
class CodeCell:
    """One code cell: its 1-based number among all cells, its source and its tags."""

    number: int
    source: str
    tags: list[str] = field(default_factory=list)


def read_code_cells(path: str | Path) -> list[CodeCell]:
    """The code cells of an ``.ipynb`` file (nbformat 4), in order.

    Raises:
        TargetError: the file is missing or is not a notebook.
    """
    path = Path(path)
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise TargetError(f"cannot read {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise TargetError(f"{path} is not a notebook (not JSON: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise TargetError(f"{path} is not a notebook in format 4 (no 'cells' list)")
    cells = []
    for number, cell in enumerate(document["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        cells.append(CodeCell(number, text, [str(t) for t in tags]))
    return cells


def _shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()

    class ServeShell(InteractiveShell):
        """A shell with no screen: every ``%matplotlib ...`` renders off-screen (inline)."""

        def enable_gui(self, gui: Any = None) -> None:
            return None

        def enable_matplotlib(self, gui: Any = None) -> Any:
            return super().enable_matplotlib("inline")  # type: ignore[no-untyped-call]

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return ServeShell.instance(config=config)


@contextlib.contextmanager
def _in_directory(directory: Path, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    previous = Path.cwd()
    os.chdir(directory)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        os.chdir(previous)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))


def load_notebook(
    path: str | Path,
    *,
    configure: Callable[[MCPServer], None] | None = None,
    chdir: bool = True,
    keep_directory: bool = False,
) -> MCPServer:
    """Run the notebook's code cells in this process's IPython shell; return its server.

    Args:
        configure: Called with the server before the first cell runs (host, port, key).
        chdir: Run the cells in the notebook's folder, as Jupyter does.
        keep_directory: Stay in that folder afterwards (``nbmcp serve`` does: tools may
            open files by relative paths).

    Raises:
        TargetError: the file is not a notebook, or a cell failed.
    """
    from IPython.utils.capture import capture_output

    _capture_output: Any = capture_output  # typed in IPython 9, untyped in 8: Any fits both

    path = Path(path)
    cells = read_code_cells(path)
    os.environ.setdefault("MPLBACKEND", "Agg")  # no GUI windows from a served notebook
    shell = _shell()
    shell.user_ns.setdefault("__session__", str(path.resolve()))
    server = current_server(notebook_name_of(path))
    if configure is not None:
        configure(server)
    shell.extension_manager.load_extension("nbmcp")
    from nbmcp.notebook.magics import get_magics

    magics = get_magics(shell)
    if magics is not None:
        magics.serving = True
    executor = main_thread_executor()
    executor.set_loop(_home_loop())
    directory = path.resolve().parent
    try:
        with _in_directory(directory, chdir):
            for cell in cells:
                if not cell.source.strip():
                    continue
                with _capture_output() as captured:
                    result = shell.run_cell(cell.source, store_history=True)
                if not result.success and "raises-exception" not in cell.tags:
                    shown = (captured.stdout + captured.stderr).strip()
                    raise TargetError(f"{path}: cell {cell.number} failed:\n{shown[-4000:]}")
            if keep_directory and chdir:
                os.chdir(directory)
                sys.path.insert(0, str(directory))
    finally:
        executor.set_loop(None)
    return server


def notebook_name_of(path: Path) -> str:
    """The server name for a notebook file (its stem)."""
    from nbmcp.notebook.kernel import notebook_name

    return notebook_name({"__session__": str(path)})


def _home_loop() -> asyncio.AbstractEventLoop:
    """IPython's own loop, where the notebook's top-level ``await`` ran."""
    from IPython.core.async_helpers import get_asyncio_loop

    loop: asyncio.AbstractEventLoop = get_asyncio_loop()  # type: ignore[no-untyped-call]
    return loop


def serve_notebook(
    path: str | Path,
    host: str,
    port: int,
    *,
    configure: Callable[[MCPServer], None] | None = None,
    announce: Callable[[MCPServer, str], None] | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> int:
    """Load the notebook, serve it until SIGINT/SIGTERM, then stop; returns the exit status.

    With ``ssl_certfile``/``ssl_keyfile`` it serves HTTPS (a cell's own ``%mcp start``
    served plain HTTP: the server moves to TLS on the same port).
    """

    def prepare(server: MCPServer) -> None:
        if configure is not None:
            configure(server)
        server.config.host = host
        server.config.port = port

    loop = _home_loop()
    stop, installed = _stop_on_signals(loop)  # first: a cell's own %mcp start serves at once
    started = time.perf_counter()
    server = load_notebook(path, configure=prepare, keep_directory=True)
    cells = sum(1 for cell in read_code_cells(path) if cell.source.strip())
    print(f"nbmcp: ran the {cells} code cells of {path} in {time.perf_counter() - started:.1f} s", flush=True)
    gc.freeze()  # the notebook's objects stay out of full GC passes: no 100 ms pauses under load
    executor = main_thread_executor()
    executor.set_loop(loop)
    try:
        if ssl_certfile and server.url is not None and not server.url.startswith("https://"):
            port = server.port or port
            server.stop()
        if server.url is None:
            url = server.start(host, port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
        else:
            url = server.url
        if announce is not None:
            announce(server, url)
        loop.run_until_complete(_until_stopped(server, stop))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        pass
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        executor.set_loop(None)
        server.stop()
    return 0


def _stop_on_signals(loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Event, list[signal.Signals]]:
    """Make SIGINT and SIGTERM set the returned event, before the server serves.

    Installed first so that a signal sent as soon as the server answers (while the banner
    prints and the collector settles) stops it, instead of being lost to an inherited
    ``SIG_IGN`` (a background job) or raising in the middle of the banner.
    """
    stop = asyncio.Event()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return stop, installed


async def _until_stopped(server: MCPServer, stop: asyncio.Event) -> None:
    """Wait for ``stop`` (a signal) or the server thread ending, running main-thread calls."""
    while not stop.is_set() and server.url is not None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
