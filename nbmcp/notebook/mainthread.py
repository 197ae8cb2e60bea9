"""``%%mcp_tool --main-thread``: run a tool on the thread that runs the cells.

Sync tools normally run in the server's worker threads, beside the kernel. Code that must
stay on one thread (pyplot's global state, a ``sqlite3`` connection made in a cell, GUI
toolkits) is served through :class:`MainThreadExecutor` instead: each call is queued and run
by the home event loop (the kernel's own loop, or the loop of ``nbmcp serve``) when it is
free, which is between cells, or while a cell awaits. A call made while a cell runs
``time.sleep(5)`` waits for that cell to end (or for the tool timeout).

Without a home loop (a notebook loaded in a plain script), calls run one at a time on a
thread of their own, named ``nbmcp-main``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["MainThreadExecutor"]

_Job = tuple[concurrent.futures.Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class MainThreadExecutor(concurrent.futures.Executor):
    """An executor whose jobs run on the home loop's thread, one at a time, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._jobs: collections.deque[_Job] = collections.deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._loop = loop
        self._fallback: asyncio.AbstractEventLoop | None = None
        self._fallback_thread: threading.Thread | None = None
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The home loop (started on a thread of its own when none was given)."""
        if self._loop is not None and not self._loop.is_closed():
            return self._loop
        with self._lock:
            if self._fallback is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_until_stopped, args=(loop,), name="nbmcp-main", daemon=True
                )
                thread.start()
                self._fallback, self._fallback_thread = loop, thread
            return self._fallback

    def set_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Serve from ``loop`` (the kernel's, or ``nbmcp serve``'s main loop) from now on."""
        self._loop = loop
        if self._jobs:
            self._wake()

    # -- sync functions ---------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)`` for the home thread; returns its future."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the main-thread executor is shut down")
            self._jobs.append((future, fn, args, kwargs))
            self._ready.notify_all()
        self._wake()
        return future

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: whoever pumps next runs the jobs
            self.loop.call_soon_threadsafe(self.drain)

    def drain(self) -> None:
        """Run every queued job, here and now (on the home thread)."""
        while True:
            with self._lock:
                if not self._jobs:
                    return
                future, fn, args, kwargs = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # timed out or cancelled before its turn
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                future.set_exception(exc)
            except BaseException as exc:  # "interrupt kernel", exit(): fail this call, keep the kernel
                future.set_exception(RuntimeError(f"the tool was stopped by {type(exc).__name__}"))
            else:
                future.set_result(result)

    def wait_pumping(self, future: concurrent.futures.Future[Any], timeout: float | None = None) -> Any:
        """Wait for ``future`` on the home thread, running queued jobs meanwhile.

        ``%mcp call`` blocks the kernel's thread while the call travels through the server; a
        main-thread tool it reaches would otherwise wait for a thread that waits for it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        future.add_done_callback(lambda _f: self._notify())
        while not future.done():
            self.drain()
            with self._ready:
                if not self._jobs and not future.done():
                    self._ready.wait(0.05)
            if deadline is not None and time.monotonic() > deadline and not future.done():
                raise TimeoutError("no answer in time")
        return future.result()

    def _notify(self) -> None:
        with self._ready:
            self._ready.notify_all()

    # -- coroutine functions ----------------------------------------------------------

    def run_coroutine(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run ``coro`` on the home loop; returns a future that cancelling cancels the task."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new jobs; cancel the queued ones; stop the fallback thread."""
        with self._ready:
            self._closed = True
            jobs, self._jobs = list(self._jobs), collections.deque()
        for future, *_ in jobs:
            future.cancel()
        fallback, self._fallback = self._fallback, None
        if fallback is not None:
            fallback.call_soon_threadsafe(fallback.stop)
            if wait and self._fallback_thread is not None:
                self._fallback_thread.join(5)


def _run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:
        loop.close()
