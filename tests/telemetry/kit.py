"""OpenTelemetry SDK providers that keep what they get in memory, and a raw Streamable HTTP client.

Spans go through a ``SimpleSpanProcessor``: each is exported as it ends, and the server ends a
request's span before it sends the answer, so a test reads the spans as soon as its request
returns, with no waiting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from nbmcp import MCPServer, ToolError

ACCEPT = {"accept": "application/json, text/event-stream"}
VERSION = "2025-06-18"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT_ID = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{PARENT_ID:016x}-01"
TRACESTATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


@dataclass
class Recorded:
    """A tracer and a meter provider whose output stays in memory."""

    spans_out: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_out))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def pair(self) -> tuple[TracerProvider, MeterProvider]:
        return self.tracer_provider, self.meter_provider

    def spans(self, scope: str = "nbmcp") -> list[ReadableSpan]:
        """The finished spans of instrumentation scope ``scope``, oldest first."""
        found = self.spans_out.get_finished_spans()
        return [
            s for s in found if s.instrumentation_scope is not None and s.instrumentation_scope.name == scope
        ]

    def points(self, name: str = "mcp.server.operation.duration") -> list[tuple[str, dict[str, Any], Any]]:
        """``(unit, attributes, point)`` of every data point of the metric ``name`` collected now."""
        data = self.reader.get_metrics_data()
        out: list[tuple[str, dict[str, Any], Any]] = []
        for resource in data.resource_metrics if data is not None else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        out.extend(
                            (metric.unit or "", dict(p.attributes or {}), p) for p in metric.data.data_points
                        )
        return out

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def build_server(**kwargs: Any) -> MCPServer:
    """A server with a good tool, two failing ones, a prompt and a resource."""
    server = MCPServer("otel-judge", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    def refuse(reason: str) -> str:
        """Always fails with a ToolError."""
        raise ToolError(f"refused: {reason}")

    @server.tool
    def crash() -> str:
        """Fails with an unexpected exception."""
        raise ValueError("the flux capacitor broke")

    @server.prompt()
    def plan_trip(city: str) -> str:
        """Plan a trip."""
        return f"Plan a trip to {city}."

    @server.resource("text://motd")
    def motd() -> str:
        return "hello"

    return server


class Raw:
    """JSON-RPC over real HTTP to ``url``, in one session once :meth:`initialize` ran."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = dict(ACCEPT)
        self.client = httpx.Client(timeout=15)
        self.next_id = 0

    def initialize(self) -> dict[str, Any]:
        reply = self.request(
            "initialize",
            {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        )
        self.headers["mcp-session-id"] = self.session_id = self.last.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = VERSION
        self.notify("notifications/initialized")
        return reply

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            body["params"] = params
        self.last = self.client.post(self.url, json=body, headers=self.headers)
        assert self.last.status_code == 200, self.last.text
        if self.last.headers["content-type"].startswith("text/event-stream"):  # the answer is the last event
            data = [
                line[5:]
                for line in self.last.text.splitlines()
                if line.startswith("data:") and line[5:].strip()
            ]
            answer: dict[str, Any] = json.loads(data[-1])
        else:
            answer = self.last.json()
        return answer

    def notify(self, method: str) -> None:
        reply = self.client.post(self.url, json={"jsonrpc": "2.0", "method": method}, headers=self.headers)
        assert reply.status_code == 202, reply.text

    def close(self) -> None:
        self.client.close()
