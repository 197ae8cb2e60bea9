"""The worker threads that run sync tools, with cheap hand-offs to and from the server loop.

``loop.run_in_executor`` wraps each call in two futures, a condition and a lock, and wakes
the loop once per result. :class:`WorkerPool` hands a call over through one ``SimpleQueue``
and returns results through a per-loop inbox that wakes the loop once for however many
results are waiting, which under load is many. It is still a ``concurrent.futures.Executor``
(``submit`` works from any thread), so anything that takes an executor takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import SimpleQueue
from typing import Any

__all__ = ["WorkerPool"]

_Outcome = tuple["asyncio.Future[Any]", Any, "BaseException | None"]


class _Inbox:
    """Results waiting to be handed to one event loop; one wake-up drains them all."""

    __slots__ = ("items", "loop", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: deque[_Outcome] = deque()
        self.scheduled = False

    def put(self, outcome: _Outcome) -> None:
        self.items.append(outcome)
        if not self.scheduled:
            self.scheduled = True
            try:
                self.loop.call_soon_threadsafe(self.drain)
            except RuntimeError:  # the loop closed: nobody waits for these results any more
                self.items.clear()

    def drain(self) -> None:
        self.scheduled = False  # first: a result put from now on schedules another drain
        items = self.items
        while items:
            future, result, error = items.popleft()
            if future.cancelled():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


class WorkerPool(Executor):
    """Up to ``max_workers`` daemon threads, started as calls need them and kept."""

    def __init__(self, max_workers: int = 32, name: str = "nbmcp-tool") -> None:
        self._max = max_workers
        self._name = name
        self._queue: SimpleQueue[tuple[Callable[[], Any], Any] | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._pending = 0
        self._lock = threading.Lock()
        self._inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}
        self._closed = False

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in a worker and wait for it on the calling loop."""
        loop = asyncio.get_running_loop()
        inbox = self._inboxes.get(loop)
        if inbox is None:
            inbox = self._inboxes[loop] = _Inbox(loop)
        future: asyncio.Future[Any] = loop.create_future()
        self._put(lambda: fn(*args), (inbox, future))
        return await future

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """The ``Executor`` interface, for callers outside the server loop."""
        future: Future[Any] = Future()
        self._put(lambda: fn(*args, **kwargs), future)
        return future

    def _put(self, job: Callable[[], Any], reply: Any) -> None:
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        with self._lock:
            self._pending += 1
            grow = self._pending > len(self._threads) and len(self._threads) < self._max
            if grow:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
        self._queue.put((job, reply))
        if grow:
            thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, reply = item
            if isinstance(reply, Future):
                if reply.set_running_or_notify_cancel():
                    try:
                        reply.set_result(job())
                    except BaseException as exc:
                        reply.set_exception(exc)
            else:
                inbox, future = reply
                try:
                    outcome: _Outcome = (future, job(), None)
                except BaseException as exc:
                    outcome = (future, None, exc)
                inbox.put(outcome)
            with self._lock:
                self._pending -= 1
            del item, job, reply

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the workers finish what they run, then end them (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    continue
                if isinstance(item[1], Future):
                    item[1].cancel()
                else:
                    inbox, future = item[1]
                    with contextlib.suppress(RuntimeError):  # that loop is closed
                        inbox.loop.call_soon_threadsafe(future.cancel)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()
        self._inboxes.clear()
