"""Time to register N distinct tools, in process: ``python bench/register_time.py nbmcp|fastmcp [N]``.

The framework is imported, the server built and the N functions created before the clock
starts (``add`` is registered first, untimed, so one-off lazy imports inside the framework
are not charged to the first timed tool). Then each ``server.tool(fn)`` is timed alone.
Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))

from bench_tools import add, make_tools


def main() -> None:
    framework = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    functions = make_tools(n)
    if framework == "nbmcp":
        from nbmcp import MCPServer

        server = MCPServer("bench")
        register = server.tool
    elif framework == "fastmcp":
        from fastmcp import FastMCP

        server = FastMCP("bench")
        register = server.tool
    else:
        raise SystemExit(f"unknown framework {framework!r}")
    register(add)
    gc.collect()
    times = []
    started = time.perf_counter()
    for fn in functions:
        t0 = time.perf_counter()
        register(fn)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    times.sort()
    print(
        json.dumps(
            {
                "framework": framework,
                "tools": n,
                "total_s": total,
                "mean_ms": total / n * 1000,
                "p50_ms": statistics.median(times) * 1000,
                "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
                "max_ms": times[-1] * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
