"""Diagnostic variant of the nbmcp bench server (not part of the main comparison).

``nbmcp serve bench/servers/nbmcp_diag.py --port P --stateless`` with environment:

- ``BENCH_TOOLS``: tools registered (``add`` + N-1 generated; default 1)
- ``BENCH_GC_FREEZE=1``: ``gc.freeze()`` once everything is registered (moves the start-up
  heap out of the collector's reach, as a server could do itself after start)
- ``BENCH_ASYNC_ADD=1``: register ``add`` as ``async def`` (runs on the loop: no thread hop)
- ``BENCH_GC_THRESHOLD=a,b,c``: ``gc.set_threshold(a, b, c)`` (CPython's default is 700,10,10)
- ``BENCH_GC_DEFAULT=1``: once serving, undo any GC tuning ``nbmcp serve`` applied
  (``gc.unfreeze()``, CPython's default thresholds 700,10,10): shows what that tuning buys
- ``BENCH_GC_LOG=path``: on exit, write JSON with the number and duration of garbage
  collections per generation (measured with ``gc.callbacks``); SIGUSR2 resets the counts,
  SIGUSR1 writes them at once
"""

import atexit
import gc
import json
import os
import signal
import time

from bench_tools import add, make_tools

from nbmcp import MCPServer

server = MCPServer("bench-diag")
if os.environ.get("BENCH_ASYNC_ADD") == "1":

    async def add_async(a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: The first number.
            b: The second number.
        """
        return a + b

    server.tool(add_async, name="add")
else:
    server.tool(add)
for fn in make_tools(int(os.environ.get("BENCH_TOOLS", "1")) - 1):
    server.tool(fn)

_log = os.environ.get("BENCH_GC_LOG")
if _log:
    # total_ms/max_ms: CPU time of the collecting thread (what the collector costs even when the
    # machine is shared); wall_ms: wall-clock time, which also counts being descheduled.
    _stats = {
        g: {"count": 0, "total_ms": 0.0, "max_ms": 0.0, "wall_ms": 0.0, "collected": 0} for g in (0, 1, 2)
    }
    _t0 = [0.0, 0.0]

    def _on_gc(phase, info):
        if phase == "start":
            _t0[0] = time.thread_time()
            _t0[1] = time.perf_counter()
            return
        ms = (time.thread_time() - _t0[0]) * 1000
        s = _stats[info["generation"]]
        s["count"] += 1
        s["total_ms"] += ms
        s["max_ms"] = max(s["max_ms"], ms)
        s["wall_ms"] += (time.perf_counter() - _t0[1]) * 1000
        s["collected"] += info["collected"]

    gc.callbacks.append(_on_gc)

    def _dump(*_args):
        with open(_log, "w") as f:
            json.dump({"gc": _stats, "freeze": gc.get_freeze_count()}, f)

    def _reset(*_args):
        for s in _stats.values():
            s.update(count=0, total_ms=0.0, max_ms=0.0, wall_ms=0.0, collected=0)

    atexit.register(_dump)
    signal.signal(signal.SIGUSR1, _dump)  # write the stats now ...
    signal.signal(signal.SIGUSR2, _reset)  # ... or start counting afresh

if os.environ.get("BENCH_GC_FREEZE") == "1":
    gc.collect()
    gc.freeze()

if os.environ.get("BENCH_GC_THRESHOLD"):
    gc.set_threshold(*(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(",")))

if os.environ.get("BENCH_GC_DEFAULT") == "1":
    import threading

    def _restore_default_gc() -> None:
        # ``nbmcp serve`` tunes the collector right after it starts serving; undo it then.
        for _ in range(600):  # bounded: 60 s
            if server.url is not None:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)

    threading.Thread(target=_restore_default_gc, name="bench-gc-default", daemon=True).start()
