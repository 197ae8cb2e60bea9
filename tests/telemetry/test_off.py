"""Telemetry off (the default): nbmcp records nothing and its code imports no OpenTelemetry.

FastAPI (0.165) imports OpenTelemetry itself when the full app is built beside a started
server, so ``sys.modules`` alone cannot tell; the probe below wraps ``__import__`` and notes
which module each ``import opentelemetry...`` statement is in, even for modules already loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

from nbmcp import MCPServer
from tests.peers.tools import ROOT

SCRIPT = r"""
import builtins, json, sys, threading

importers = []
_real_import = builtins.__import__

def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.partition(".")[0] == "opentelemetry":
        importer = (globals or {}).get("__name__", "?")
        if not importer.startswith("opentelemetry"):
            importers.append(importer)
    return _real_import(name, globals, locals, fromlist, level)

builtins.__import__ = recording_import

import httpx
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# Global providers that would catch anything nbmcp recorded through them.
spans = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
setup = len(importers)

from nbmcp import MCPServer

ACCEPT = {"accept": "application/json, text/event-stream"}
VERSION = "2025-06-18"
META = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}

def calls(server):
    @server.tool
    def add(a: int, b: int) -> int:
        return a + b
    url = server.start()
    with httpx.Client(timeout=15) as client:
        init = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}
        reply = client.post(url, json=body, headers=ACCEPT)
        session = reply.headers["mcp-session-id"]
        headers = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": VERSION}
        for n in range(3):
            params = {"name": "add", "arguments": {"a": n, "b": 1}, "_meta": META}
            body = {"jsonrpc": "2.0", "id": 2 + n, "method": "tools/call", "params": params}
            answer = client.post(url, json=body, headers=headers)
            assert answer.json()["result"]["structuredContent"] == {"result": n + 1}, answer.text
        assert client.get(url.removesuffix("/mcp") + "/health").status_code == 200  # the full app, built
    for thread in threading.enumerate():
        if thread.name == "nbmcp-app":
            thread.join(60)
    server.stop()

def recorded():
    data = reader.get_metrics_data()
    names = [m.name for r in (data.resource_metrics if data else []) for s in r.scope_metrics
             if s.scope.name == "nbmcp" for m in s.metrics]
    return len([s for s in spans.get_finished_spans() if s.instrumentation_scope.name == "nbmcp"]), names

off_server = MCPServer("off")
calls(off_server)
off = {
    "importers": sorted(set(importers[setup:])),
    "telemetry_loaded": sorted(m for m in sys.modules if m.startswith("nbmcp.telemetry")),
    "observer": off_server.engine.observer is not None,
    "recorded": recorded(),
}
seen = len(importers)
calls(MCPServer("on", telemetry=True))  # the control: the same probe and providers see telemetry on
on = {"importers": sorted(set(importers[seen:])), "recorded": recorded()}
print(json.dumps({"off": off, "on": on}))
"""


def test_telemetry_off_imports_and_records_nothing_and_on_the_probe_sees_it() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    off, on = found["off"], found["on"]
    assert [m for m in off["importers"] if m.startswith("nbmcp")] == [], off
    assert off["telemetry_loaded"] == []
    assert off["observer"] is False
    assert off["recorded"] == [0, []]
    # telemetry=True: nbmcp's own module imports OpenTelemetry and the global providers get
    # a span per request (initialize + 3 calls) and the histogram
    assert "nbmcp.telemetry.observer" in on["importers"], on
    assert on["recorded"] == [4, ["mcp.server.operation.duration"]]


def test_a_server_built_without_telemetry_has_no_observer() -> None:
    assert MCPServer("plain").engine.observer is None
    assert MCPServer("plain", telemetry=None).engine.observer is None
