"""The worker pool that runs sync tools: results, errors, growth, shutdown."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from nbmcp.tools.workers import WorkerPool


def test_results_and_errors_reach_the_loop() -> None:
    pool = WorkerPool(4)

    def boom() -> None:
        raise ValueError("bad")

    async def go() -> None:
        assert await pool.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ValueError, match="bad"):
            await pool.run(boom)
        many = await asyncio.gather(*(pool.run(lambda i=i: i * i) for i in range(500)))
        assert many == [i * i for i in range(500)]

    asyncio.run(go())
    pool.shutdown()


def test_it_grows_to_the_limit_and_no_further() -> None:
    pool = WorkerPool(3)
    release = threading.Event()
    running: set[str] = set()

    def hold() -> str:
        running.add(threading.current_thread().name)
        release.wait(5)
        return threading.current_thread().name

    async def go() -> list[str]:
        calls = [asyncio.ensure_future(pool.run(hold)) for _ in range(6)]
        deadline = time.monotonic() + 5
        while len(running) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(running) == 3, "three run at once, the rest wait"
        release.set()
        return await asyncio.gather(*calls)

    names = asyncio.run(go())
    assert len(set(names)) == 3 and all(n.startswith("nbmcp-tool-") for n in names)
    pool.shutdown()


def test_submit_works_from_any_thread_and_shutdown_is_clean() -> None:
    pool = WorkerPool(2)
    assert pool.submit(sum, [1, 2, 3]).result(5) == 6
    before = threading.active_count()
    pool.shutdown(wait=True)
    assert threading.active_count() <= before - 1
    pool.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(sum, [1])


def test_shutdown_can_cancel_what_waits() -> None:
    pool = WorkerPool(1)
    release = threading.Event()

    async def go() -> None:
        first = asyncio.ensure_future(pool.run(release.wait, 5))
        waiting = asyncio.ensure_future(pool.run(lambda: "never"))
        await asyncio.sleep(0.05)
        pool.shutdown(wait=False, cancel_futures=True)
        release.set()
        assert await first is True
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(go())
