"""The accepted ``telemetry=`` forms, the convention rules on their own, and the engine hook's edges."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from nbmcp import MCPServer
from nbmcp.protocol import Session
from nbmcp.telemetry import install
from nbmcp.telemetry.conventions import TOOL_ERROR, describe, metric_attributes, outcome
from nbmcp.telemetry.environment import environment_defaults
from nbmcp.telemetry.observer import RequestTelemetry, observer_for
from tests.peers.tools import ROOT
from tests.telemetry.kit import Recorded


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    kept = Recorded()
    yield kept
    kept.shutdown()


def _call(server: MCPServer, name: str = "add", session: Session | None = None) -> dict[str, Any]:
    msg = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": {"a": 1, "b": 2}},
    }
    return asyncio.run(server.engine.handle_request(msg, session or Session(None), {}, None))


def _adder(**kwargs: Any) -> MCPServer:
    server = MCPServer("forms", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        return a + b

    return server


def test_each_accepted_form(recorded: Recorded) -> None:
    tp, mp = recorded.pair
    assert isinstance(observer_for(True), RequestTelemetry)
    for form in (tp, mp, (tp, mp), (tp, None), (None, mp), (None, None)):
        assert isinstance(observer_for(form), RequestTelemetry), form
    for bad in ("yes", 1, (tp,), (mp, tp), [tp, mp], object()):
        with pytest.raises(
            TypeError,
            match=r"telemetry must be True \(the global providers\), a TracerProvider, a MeterProvider",
        ):
            observer_for(bad)
    with pytest.raises(TypeError):
        MCPServer("bad", telemetry="otel")


def test_a_tracer_provider_alone_gets_spans_and_a_meter_provider_alone_the_histogram(
    recorded: Recorded,
) -> None:
    tp, mp = recorded.pair
    assert _call(_adder(telemetry=tp))["result"]["structuredContent"] == {"result": 3}
    assert [s.name for s in recorded.spans()] == ["tools/call add"]
    assert recorded.points() == []  # metrics went to the global meter provider (none set: dropped)
    assert _call(_adder(telemetry=mp))["result"]["structuredContent"] == {"result": 3}
    assert [s.name for s in recorded.spans()] == ["tools/call add"]  # no new span
    assert [p.count for _, _, p in recorded.points()] == [1]


def test_install_turns_it_on_and_off(recorded: Recorded) -> None:
    server = _adder()
    install(server.engine, recorded.pair)
    _call(server)
    install(server.engine, False)
    assert server.engine.observer is None
    _call(server)
    install(server.engine, None)
    assert len(recorded.spans()) == 1


def test_a_request_cut_short_by_the_server_stopping_ends_its_span(recorded: Recorded) -> None:
    server = MCPServer("stopping", telemetry=recorded.pair)
    started = asyncio.Event()

    @server.tool
    async def wait_forever() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    async def main() -> None:
        msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "wait_forever"}}
        task = asyncio.ensure_future(server.engine.handle_request(msg, Session("s1"), {}, None))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()  # what the server's shutdown does to the requests still running
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    (span,) = recorded.spans()
    assert span.name == "tools/call wait_forever"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "CancelledError"
    assert span.end_time is not None
    ((_, attributes, _),) = recorded.points()
    assert attributes["error.type"] == "CancelledError"


def test_describe_names_targets_and_leaves_out_what_is_unknown() -> None:
    stateless = Session(None, "2025-11-25")
    name, attrs = describe({"id": None, "method": "tools/call", "params": {"name": "x" * 129}}, stateless, {})
    assert name == "tools/call"  # no tool registers a name that long: not a span-name target
    assert attrs == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2025-11-25",
        "gen_ai.operation.name": "execute_tool",
    }
    name, attrs = describe({"id": "a-1", "method": "prompts/get", "params": "junk"}, stateless, {})
    assert (name, attrs["jsonrpc.request.id"]) == ("prompts/get", "a-1")
    assert "gen_ai.prompt.name" not in attrs
    name, attrs = describe(
        {"id": 3, "method": "resources/subscribe", "params": {"uri": "weather://oslo/now"}}, Session("s"), {}
    )
    assert (name, attrs["mcp.resource.uri"], attrs["mcp.session.id"]) == (
        "resources/subscribe",
        "weather://oslo/now",
        "s",
    )
    assert "mcp.resource.uri" not in metric_attributes(attrs) and "mcp.session.id" not in metric_attributes(
        attrs
    )


def test_outcome_reads_json_rpc_errors_and_tool_errors() -> None:
    assert outcome("tools/call", {"error": {"code": -32603, "message": "Internal error"}}) == (
        "-32603",
        "-32603",
        "Internal error",
    )
    assert outcome("ping", {"error": {"code": -32600}}) == ("-32600", "-32600", None)
    assert outcome("tools/call", {"result": {"isError": True}}) == (TOOL_ERROR, None, None)
    assert outcome("tools/call", {"result": {"isError": 1}}) == (None, None, None)  # only a real true
    assert outcome("prompts/get", {"result": {"isError": True}}) == (None, None, None)  # tools only
    assert outcome("tools/call", {"result": {"isError": False}}) == (None, None, None)


BLOCKED = r"""
import sys
class Missing:
    def find_spec(self, fullname, path=None, target=None):
        if fullname == %r or fullname.startswith(%r + "."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None
sys.meta_path.insert(0, Missing())
"""


def test_without_opentelemetry_telemetry_true_says_which_extra_to_install() -> None:
    code = BLOCKED % ("opentelemetry", "opentelemetry") + (
        "from nbmcp import MCPServer\n"
        "try:\n"
        "    MCPServer('x', telemetry=True)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'OpenTelemetry is not installed: pip install "nbmcp[otel]"'


def test_environment_defaults_fill_only_what_is_unset() -> None:
    assert environment_defaults("weather", {}) == {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_SERVICE_NAME": "weather",
    }
    given = {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "", "OTEL_SERVICE_NAME": "svc"}
    assert environment_defaults("weather", given) == {"OTEL_METRICS_EXPORTER": "otlp"}
    attributes = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=dev, service.name=nb"}
    assert "OTEL_SERVICE_NAME" not in environment_defaults("weather", attributes)


def test_providers_already_set_are_left_alone() -> None:
    code = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "mine = TracerProvider()\n"
        "trace.set_tracer_provider(mine)\n"
        "from nbmcp.telemetry import configure_from_environment\n"
        "print(configure_from_environment('x'), trace.get_tracer_provider() is mine)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
