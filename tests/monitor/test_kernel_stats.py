"""In a real kernel: outside calls show in ``current_server().stats()``, ``calls()`` and ``%mcp stats``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.notebook.kernelkit import Kernel

pytestmark = pytest.mark.timeout(180)

TOOLS = '''%%mcp_tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b
'''
DIVIDE = '''%%mcp_tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b
'''
PROTOCOL = "2025-11-25"
TOTALS = re.compile(r"^calls (\d+)  errors (\d+)  in flight (\d+)  uptime (\d+\.\d) s$")


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    k = Kernel()
    try:
        k.run("%load_ext nbmcp").ok()
        yield k
    finally:
        k.shutdown()


def table(block: str) -> list[dict[str, str]]:
    """The rows of a text table (a header, a line of dashes, rows; columns two spaces apart)."""
    header, dashes, *rows = block.splitlines()
    spans, at = [], 0
    for dash in dashes.split("  "):
        spans.append((at, at + len(dash)))
        at += len(dash) + 2
    names = [header[a:b].strip() for a, b in spans]
    spans[-1] = (spans[-1][0], 10_000)  # the last column may run past its dashes
    return [{name: row[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)} for row in rows]


def json_of(kernel: Kernel, expression: str) -> Any:
    """``expression`` evaluated in the kernel, as JSON."""
    reply = kernel.run(f"import json as _json, nbmcp\nprint(_json.dumps({expression}))").ok()
    return json.loads(reply.stdout.strip().splitlines()[-1])


def test_outside_calls_in_stats_calls_and_the_stats_table(kernel: Kernel) -> None:
    kernel.run(TOOLS).ok()
    kernel.run(DIVIDE).ok()
    started = kernel.run("%mcp start --port 0").ok()
    found = re.search(r"http://127\.0\.0\.1:\d+/mcp", started.stdout)
    assert found, started.stdout
    url = found.group(0)

    accept = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(timeout=30, trust_env=False, headers=accept) as http:
        init = {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "kernel-probe", "version": "1.0"},
        }
        opened = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": PROTOCOL}
        http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)

        def call(name: str, arguments: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
            body = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
            answer = http.post(url, json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            result: dict[str, Any] = answer.json()["result"]
            return result

        assert call("add", {"a": 1, "b": 2}, session)["structuredContent"] == {"result": 3}
        assert call("divide", {"a": 1, "b": 0}, {})["isError"] is True  # a plain POST: no client info
        assert call("add", {"a": 2, "b": 2}, session)["structuredContent"] == {"result": 4}
        assert call("divide", {"a": 9, "b": 3}, session)["structuredContent"] == {"result": 3.0}

    stats = json_of(kernel, "nbmcp.current_server().stats()")
    assert (stats["total_calls"], stats["errors"], stats["in_flight"]) == (4, 1, 0)
    assert {name: (t["calls"], t["errors"]) for name, t in stats["tools"].items()} == {
        "add": (2, 0),
        "divide": (2, 1),
    }
    assert all(t["p50_ms"] > 0 and t["p50_ms"] <= t["p95_ms"] <= t["p99_ms"] for t in stats["tools"].values())
    assert stats["clients"] == {
        "kernel-probe@-": {"name": "kernel-probe", "principal": None, "calls": 3, "errors": 0},
        "-@-": {"name": None, "principal": None, "calls": 1, "errors": 1},
    }
    assert (
        stats["per_minute"][-1]["calls"] + stats["per_minute"][-2]["calls"] == 4
    )  # this minute (or the last)
    assert stats["uptime_s"] > 0

    calls = json_of(kernel, "nbmcp.current_server().calls()")
    assert [(c["tool"], c["arguments"]) for c in calls] == [
        ("divide", {"a": 9, "b": 3}),
        ("add", {"a": 2, "b": 2}),
        ("divide", {"a": 1, "b": 0}),
        ("add", {"a": 1, "b": 2}),
    ]  # newest first
    assert len({c["id"] for c in calls}) == 4 and all(
        re.fullmatch(r"[0-9a-f]{8}-\d{6}", c["id"]) for c in calls
    )
    assert [c["ok"] for c in calls] == [True, True, False, True]
    assert calls[2]["error"] == "ZeroDivisionError: float division by zero" and calls[2]["client"] is None
    assert calls[0]["client"] == {"name": "kernel-probe", "version": "1.0"} and calls[0]["session_id"]
    assert all(c["transport"] == "mcp" and c["principal"] is None for c in calls)
    assert json_of(kernel, "[c['tool'] for c in nbmcp.current_server().calls(errors_only=True)]") == [
        "divide"
    ]

    shown = kernel.run("%mcp stats").ok()
    assert shown.results and "text/html" in shown.results[0]
    text = shown.text
    totals, tools, clients, minutes = text.split("\n\n")
    found_totals = TOTALS.match(totals)
    assert found_totals, totals
    assert [int(n) for n in found_totals.groups()[:3]] == [4, 1, 0] and float(found_totals.group(4)) > 0
    rows = {row["tool"]: row for row in table(tools)}
    assert {name: (int(r["calls"]), int(r["errors"])) for name, r in rows.items()} == {
        "add": (2, 0),
        "divide": (2, 1),
    }
    for name, row in rows.items():
        assert float(row["p50 ms"]) == pytest.approx(stats["tools"][name]["p50_ms"], abs=0.0005)
        assert float(row["p50 ms"]) <= float(row["p95 ms"]) <= float(row["p99 ms"])
        assert row["last called"].endswith(" UTC")
    by_client = {(r["client"], r["principal"]): (int(r["calls"]), int(r["errors"])) for r in table(clients)}
    assert by_client == {("kernel-probe", "-"): (3, 0), ("-", "-"): (1, 1)}
    title, recent = minutes.split("\n", 1)
    assert title == "the last 10 minutes:"
    assert sum(int(r["calls"]) for r in table(recent)) == 4
    assert "%mcp stats" in kernel.run("%mcp help stats").ok().stdout
    assert "%mcp monitor" in kernel.run("%mcp help monitor").ok().stdout
    kernel.run("%mcp stop").ok()
