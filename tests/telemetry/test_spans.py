"""One SERVER span per MCP request and the duration histogram, over real HTTP on a real port.

Checked against the OpenTelemetry semantic conventions for MCP (docs/gen-ai/mcp.md, the
"Server" span and ``mcp.server.operation.duration``): names ``{mcp.method.name} {target}``,
the attributes, ERROR status with ``error.type``, the parent from ``params._meta``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from nbmcp import MCPServer
from nbmcp.telemetry.conventions import BUCKETS
from tests.telemetry.kit import (
    PARENT_ID,
    TRACE_ID,
    TRACEPARENT,
    TRACESTATE,
    VERSION,
    Raw,
    Recorded,
    build_server,
)

pytestmark = pytest.mark.timeout(120)

HTTP = {"network.transport": "tcp", "network.protocol.name": "http"}


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    kept = Recorded()
    yield kept
    kept.shutdown()


@pytest.fixture
def raw(recorded: Recorded, serve: Any) -> Iterator[Raw]:
    client = Raw(serve(build_server(telemetry=recorded.pair)))
    client.initialize()
    yield client
    client.close()


def test_each_request_is_one_span_named_and_attributed_as_the_convention_says(
    recorded: Recorded, raw: Raw
) -> None:
    meta = {"traceparent": TRACEPARENT, "tracestate": TRACESTATE}
    assert raw.request("tools/list")["result"]["tools"]
    ok = raw.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}, "_meta": meta})
    assert ok["result"]["structuredContent"] == {"result": 5}
    refused = raw.request("tools/call", {"name": "refuse", "arguments": {"reason": "no"}})
    assert refused["result"]["isError"] is True
    crashed = raw.request("tools/call", {"name": "crash", "arguments": {}})
    assert crashed["result"]["isError"] is True
    unknown = raw.request("tools/call", {"name": "nope", "arguments": {}})
    assert unknown["error"]["code"] == -32602
    assert raw.request("prompts/get", {"name": "plan_trip", "arguments": {"city": "Oslo"}})["result"]
    assert raw.request("resources/read", {"uri": "text://motd"})["result"]
    assert raw.request("no/such/method")["error"]["code"] == -32601

    spans = recorded.spans()
    assert [s.name for s in spans] == [
        "initialize",
        "tools/list",
        "tools/call add",
        "tools/call refuse",
        "tools/call crash",
        "tools/call nope",
        "prompts/get plan_trip",
        "resources/read",
        "no/such/method",
    ]  # notifications/initialized is a notification: no span
    assert all(s.kind is SpanKind.SERVER for s in spans)
    session = {"mcp.session.id": raw.session_id, "mcp.protocol.version": VERSION, **HTTP}
    tool = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", **session}
    by_name = {s.name: s for s in spans}
    expected: dict[str, dict[str, Any]] = {
        "initialize": {"mcp.method.name": "initialize", "jsonrpc.request.id": "1", **session},
        "tools/list": {"mcp.method.name": "tools/list", "jsonrpc.request.id": "2", **session},
        "tools/call add": {**tool, "gen_ai.tool.name": "add", "jsonrpc.request.id": "3"},
        "tools/call refuse": {
            **tool,
            "gen_ai.tool.name": "refuse",
            "jsonrpc.request.id": "4",
            "error.type": "tool_error",
        },
        "tools/call crash": {
            **tool,
            "gen_ai.tool.name": "crash",
            "jsonrpc.request.id": "5",
            "error.type": "tool_error",
        },
        "tools/call nope": {
            **tool,
            "gen_ai.tool.name": "nope",
            "jsonrpc.request.id": "6",
            "error.type": "-32602",
            "rpc.response.status_code": "-32602",
        },
        "prompts/get plan_trip": {
            "mcp.method.name": "prompts/get",
            "gen_ai.prompt.name": "plan_trip",
            "jsonrpc.request.id": "7",
            **session,
        },
        "resources/read": {
            "mcp.method.name": "resources/read",
            "mcp.resource.uri": "text://motd",
            "jsonrpc.request.id": "8",
            **session,
        },
        "no/such/method": {
            "mcp.method.name": "no/such/method",
            "jsonrpc.request.id": "9",
            "error.type": "-32601",
            "rpc.response.status_code": "-32601",
            **session,
        },
    }
    for name, attributes in expected.items():
        assert dict(by_name[name].attributes or {}) == attributes, name

    failed = {"tools/call refuse", "tools/call crash", "tools/call nope", "no/such/method"}
    for span in spans:
        assert (span.status.status_code is StatusCode.ERROR) == (span.name in failed), span.name
    assert by_name["tools/call nope"].status.description == unknown["error"]["message"]
    assert by_name["tools/call refuse"].status.description is None  # no JSON-RPC error message to copy

    traced = by_name["tools/call add"]
    assert traced.parent is not None and traced.parent.is_remote
    assert (traced.parent.trace_id, traced.parent.span_id) == (TRACE_ID, PARENT_ID)
    assert traced.context.trace_id == TRACE_ID
    assert traced.parent.trace_state.to_header() == TRACESTATE
    assert not traced.links  # nothing was current around the request to link to
    assert all(s.parent is None for s in spans if s is not traced)  # no _meta: each its own trace


def test_the_duration_histogram_counts_each_kind_of_request(recorded: Recorded, raw: Raw) -> None:
    for n in range(3):
        raw.request("tools/call", {"name": "add", "arguments": {"a": n, "b": 1}})
    raw.request("tools/call", {"name": "refuse", "arguments": {"reason": "x"}})
    raw.request("tools/call", {"name": "nope", "arguments": {}})
    points = recorded.points()
    assert {unit for unit, _, _ in points} == {"s"}
    counts = {
        tuple(sorted((k, v) for k, v in attributes.items() if k != "mcp.protocol.version")): p.count
        for _, attributes, p in points
    }
    base = tuple(sorted(HTTP.items()))

    def key(**attributes: str) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted((*base, *attributes.items())))

    call = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"}
    assert counts == {
        key(**{"mcp.method.name": "initialize"}): 1,
        key(**call, **{"gen_ai.tool.name": "add"}): 3,
        key(**call, **{"gen_ai.tool.name": "refuse", "error.type": "tool_error"}): 1,
        key(
            **call,
            **{"gen_ai.tool.name": "nope", "error.type": "-32602", "rpc.response.status_code": "-32602"},
        ): 1,
    }
    for _, attributes, point in points:
        assert attributes["mcp.protocol.version"] == VERSION
        assert tuple(point.explicit_bounds) == BUCKETS
        assert sum(point.bucket_counts) == point.count
        assert point.sum >= 0
        assert "mcp.session.id" not in attributes and "jsonrpc.request.id" not in attributes


def test_the_span_is_current_while_the_tool_runs(recorded: Recorded, serve: Any) -> None:
    server = MCPServer("current", telemetry=recorded.pair)

    @server.tool
    def sync_span() -> str:
        """The span current in a sync tool (a worker thread)."""
        return format(trace.get_current_span().get_span_context().span_id, "016x")

    @server.tool
    async def async_span() -> str:
        """The span current in an async tool, and a child span it opens."""
        with recorded.tracer_provider.get_tracer("user").start_as_current_span("inner"):
            pass
        return format(trace.get_current_span().get_span_context().span_id, "016x")

    raw = Raw(serve(server))
    try:
        raw.initialize()
        meta = {"_meta": {"traceparent": TRACEPARENT}}
        seen_sync = raw.request("tools/call", {"name": "sync_span", "arguments": {}, **meta})
        seen_async = raw.request("tools/call", {"name": "async_span", "arguments": {}})
    finally:
        raw.close()
    spans = {s.name: s for s in recorded.spans()}
    assert seen_sync["result"]["content"][0]["text"] == format(
        spans["tools/call sync_span"].context.span_id, "016x"
    )
    outer = spans["tools/call async_span"]
    assert seen_async["result"]["content"][0]["text"] == format(outer.context.span_id, "016x")
    (inner,) = recorded.spans("user")
    assert inner.parent is not None and inner.parent.span_id == outer.context.span_id


class Ambient:
    """ASGI middleware that opens an HTTP server span around each request, as an HTTP
    instrumentation would (the "ambient" context the convention says to link)."""

    tracer: trace.Tracer

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with self.tracer.start_as_current_span(f"{scope.get('method')} /mcp", kind=SpanKind.SERVER):
            await self.app(scope, receive, send)


def test_meta_context_is_the_parent_and_the_ambient_span_a_link(recorded: Recorded, serve: Any) -> None:
    Ambient.tracer = recorded.tracer_provider.get_tracer("http")
    raw = Raw(serve(build_server(telemetry=recorded.pair, middleware=[Ambient])))
    try:
        raw.initialize()
        raw.request(
            "tools/call",
            {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": {"traceparent": TRACEPARENT}},
        )
        raw.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    finally:
        raw.close()
    http = recorded.spans("http")
    with_meta, without_meta = (s for s in recorded.spans() if s.name == "tools/call add")
    *_handshake, around_first, around_second = (h for h in http if h.name == "POST /mcp")
    assert with_meta.parent is not None and with_meta.parent.span_id == PARENT_ID
    assert [link.context.span_id for link in with_meta.links] == [around_first.context.span_id]
    assert without_meta.parent is not None and without_meta.parent.span_id == around_second.context.span_id
    assert not without_meta.links


@pytest.mark.parametrize(
    "meta",
    [
        {"traceparent": "not a traceparent"},
        {"traceparent": 42},
        {"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]},
        {"traceparent": f"00-{0:032x}-{PARENT_ID:016x}-01"},  # an all-zero trace id is invalid
        "not an object",
    ],
)
def test_a_bad_traceparent_starts_a_new_trace_and_the_call_still_answers(
    recorded: Recorded, raw: Raw, meta: Any
) -> None:
    answer = raw.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": meta})
    assert answer["result"]["structuredContent"] == {"result": 2}
    (span,) = (s for s in recorded.spans() if s.name == "tools/call add")
    assert span.parent is None
    assert span.context.trace_id != TRACE_ID


def test_the_official_sdk_client_carries_its_context_to_the_server_span(
    recorded: Recorded, serve: Any
) -> None:
    url = serve(build_server(telemetry=recorded.pair))
    agent_tracer = recorded.tracer_provider.get_tracer("agent")

    async def main() -> tuple[int, str]:
        with anyio.fail_after(30):
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
                init = await session.initialize()
                with agent_tracer.start_as_current_span("invoke_agent") as agent:
                    result = await session.call_tool("add", {"a": 20, "b": 22})
                assert result.structured_content == {"result": 42}
                return agent.get_span_context().trace_id, init.protocol_version

    agent_trace, negotiated = anyio.run(main)
    spans = {s.name: s for s in recorded.spans()}
    call = spans["tools/call add"]
    assert call.context.trace_id == agent_trace  # the SDK put the agent's trace in params._meta
    assert call.parent is not None and call.parent.is_remote
    assert dict(call.attributes or {})["mcp.protocol.version"] == negotiated
    assert dict(spans["initialize"].attributes or {})["mcp.protocol.version"] == negotiated
    sessions = {dict(s.attributes or {}).get("mcp.session.id") for s in recorded.spans()}
    assert len(sessions) == 1 and None not in sessions
