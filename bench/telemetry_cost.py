"""What OpenTelemetry costs per request, in process: ``python bench/telemetry_cost.py [N] [ROUNDS] [METHOD]``.

``Engine.handle_request`` answers METHOD (``tools/call`` of ``add``, an ``async def`` tool so no
worker-thread hop hides the difference; or ``ping``, the cheapest request) N times per round,
in three variants taken in turn each round:

- ``head``: the engine as committed (``git show HEAD:nbmcp/protocol/engine.py``), no hook at all;
- ``off``: this tree's engine, ``observer`` ``None`` (the default: ``MCPServer()``);
- ``on``: this tree's engine with ``telemetry=(TracerProvider, MeterProvider)`` of the SDK, spans
  through a ``BatchSpanProcessor`` to an exporter that drops them.

Every variant gets the same request, ``traceparent`` in ``_meta`` included. Prints one JSON
line: per variant, the minimum and the median over rounds of the mean microseconds per
request (the minimum is the least disturbed by other processes on the machine).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from nbmcp import MCPServer
from nbmcp.protocol import Session

ROOT = Path(__file__).resolve().parent.parent
META = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


class Drop(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def head_engine_class() -> type:
    source = subprocess.run(
        ["git", "show", "HEAD:nbmcp/protocol/engine.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("engine_at_head")
    sys.modules[module.__name__] = module
    exec(compile(source, "engine_at_head.py", "exec"), module.__dict__)
    return module.Engine  # type: ignore[no-any-return]


def build(**kwargs: Any) -> MCPServer:
    server = MCPServer("bench", **kwargs)

    @server.tool
    async def add(a: int, b: int) -> int:
        return a + b

    return server


async def per_request_us(engine: Any, n: int, method: str) -> float:
    session = Session("s")
    params: dict[str, Any] = {"_meta": META}
    if method == "tools/call":
        params.update(name="add", arguments={"a": 1, "b": 2})
    for i in range(200):  # warm
        await engine.handle_request(
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}, session, {}, None
        )
    started = time.perf_counter()
    for i in range(n):
        answer = await engine.handle_request(
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}, session, {}, None
        )
    elapsed = time.perf_counter() - started
    assert "result" in answer and (
        method != "tools/call" or answer["result"]["structuredContent"] == {"result": 3}
    ), answer
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    method = sys.argv[3] if len(sys.argv) > 3 else "tools/call"
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop(), max_queue_size=1_000_000))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    off = build()
    on = build(telemetry=(tracer_provider, meter_provider))
    head = build()
    head_engine = head_engine_class()(head.registry, head.info, head.engine.sessions)
    variants = {"head": head_engine, "off": off.engine, "on": on.engine}
    results: dict[str, list[float]] = {name: [] for name in variants}
    gc.collect()
    for _ in range(rounds):
        for name, engine in variants.items():
            results[name].append(asyncio.run(per_request_us(engine, n, method)))
    tracer_provider.shutdown()
    meter_provider.shutdown()
    summary = {
        name: {"min": round(min(values), 2), "median": round(statistics.median(values), 2)}
        for name, values in results.items()
    }
    print(json.dumps({"method": method, "n": n, "rounds": rounds, "us_per_request": summary}))


if __name__ == "__main__":
    main()
