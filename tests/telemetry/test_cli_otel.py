"""``nbmcp serve --otel`` as a real process: the SDK configured from ``OTEL_*``, and its failures.

The console exporters print each span and the metrics as JSON on stdout when the process
exits (``BatchSpanProcessor`` and the periodic metric reader flush at shutdown), after the
lines ``nbmcp serve`` prints itself.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest

from tests.peers.tools import ROOT
from tests.telemetry.kit import PARENT_ID, TRACE_ID, TRACEPARENT
from tests.telemetry.test_forms import BLOCKED

pytestmark = pytest.mark.timeout(120)

SERVE = ["serve", "examples/weather.py", "--otel", "--port", "0"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {**env, **extra}


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that starts a line of ``text`` (the console exporters indent theirs)."""
    decoder = json.JSONDecoder()
    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "{":
            value, _ = decoder.raw_decode(text, offset)
            found.append(value)
        offset += len(line)
    return found


def test_otel_exports_a_span_per_request_and_the_histogram_as_the_environment_says() -> None:
    env = _env(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="console", OTEL_LOGS_EXPORTER="none")
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "nbmcp.cli", *SERVE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        out = proc.stdout
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in iter(out.readline, ""):
                lines.put(line)

        reader = threading.Thread(target=pump)
        reader.start()
        try:
            while not any(line.startswith("nbmcp: serving") for line in seen):
                seen.append(lines.get(timeout=30))
            url = seen[-1].rsplit(" at ", 1)[1].split()[0]
            body = {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {
                    "name": "get_weather",
                    "arguments": {"city": "Tokyo"},
                    "_meta": {"traceparent": TRACEPARENT},
                },
            }
            answer = httpx.post(url, json=body, headers={"accept": "application/json"}, timeout=10).json()
            assert answer["result"]["structuredContent"]["city"] == "Tokyo"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(30)
    while not lines.empty():
        seen.append(lines.get_nowait())
    objects = _json_objects("".join(seen))
    (span,) = (o for o in objects if o.get("name") == "tools/call get_weather")
    assert span["kind"] == "SpanKind.SERVER"
    assert span["context"]["trace_id"] == f"0x{TRACE_ID:032x}"
    assert span["parent_id"] == f"0x{PARENT_ID:016x}"
    assert span["attributes"] == {
        "mcp.method.name": "tools/call",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "mcp.protocol.version": span["attributes"]["mcp.protocol.version"],
        "jsonrpc.request.id": "5",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
    }
    assert span["resource"]["attributes"]["service.name"] == "weather"  # the server's name by default
    metrics = [
        metric
        for o in objects
        for resource in o.get("resource_metrics", [])
        for scope in resource["scope_metrics"]
        if scope["scope"]["name"] == "nbmcp"
        for metric in scope["metrics"]
    ]
    assert {m["name"] for m in metrics} == {"mcp.server.operation.duration"}
    (point,) = metrics[-1]["data"]["data_points"]  # cumulative: the last export holds the total
    assert point["count"] == 1
    assert point["attributes"]["gen_ai.tool.name"] == "get_weather"
    assert metrics[-1]["unit"] == "s"


def test_otel_without_the_exporter_the_environment_asks_for_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nbmcp.cli", *SERVE],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("nbmcp: error: --otel: Requested component 'otlp_proto_grpc' not found")
    assert line.endswith(
        "pip install opentelemetry-exporter-otlp, "
        "or set OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER (console, none)"
    )


def test_otel_without_the_sdk_says_which_extra_to_install() -> None:
    code = BLOCKED % ("opentelemetry.sdk", "opentelemetry.sdk") + (
        f"from nbmcp.cli import main\nsys.exit(main({SERVE!r}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(OTEL_TRACES_EXPORTER="console"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'nbmcp: error: --otel: the OpenTelemetry SDK is not installed: pip install "nbmcp[otel]"'
    ]
