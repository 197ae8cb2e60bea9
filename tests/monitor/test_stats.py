"""Statistics: nearest-rank percentiles, the ring buffers, calls per minute, clients, ``server.stats()``."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timezone

import pytest
import time_machine

from nbmcp import MCPServer, ToolError
from nbmcp.monitor import Monitor, Usage
from nbmcp.monitor.stats import LATENCY_WINDOW, client_key, percentile
from tests.monitor.records import finished


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 99, 7.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0, 1),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, 1),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 11, 2),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 51, 6),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 100, 10),
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 99, 99),
        ([15, 20, 35, 40, 50], 30, 20),  # the textbook example: rank ceil(1.5) = 2
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[float], p: float, expected: float | None) -> None:
    assert percentile(values, p) == expected


def test_tool_percentiles_in_milliseconds_from_known_durations() -> None:
    usage = Usage()
    durations = [i / 1000 for i in range(1, 1001)]  # 1 ms .. 1000 ms
    random.Random(11).shuffle(durations)  # the order they came in does not matter
    for seconds in durations:
        usage.add(finished("add", seconds=seconds, ok=seconds != 0.5))
    tool = usage.snapshot()["tools"]["add"]
    assert tool["calls"] == 1000 and tool["errors"] == 1
    assert (tool["p50_ms"], tool["p95_ms"], tool["p99_ms"]) == (500.0, 950.0, 990.0)


def test_the_latency_window_keeps_the_last_1000_durations_and_the_counts_keep_everything() -> None:
    usage = Usage()
    for i in range(1, 1501):  # 1 ms .. 1500 ms, in order: the window holds 501 .. 1500
        usage.add(finished("add", seconds=i / 1000))
    stats = usage.tools["add"]
    assert LATENCY_WINDOW == 1000 and len(stats.latencies) == 1000
    kept = list(stats.latencies)
    assert kept[0] == pytest.approx(0.501) and kept[-1] == pytest.approx(1.5)
    tool = usage.snapshot()["tools"]["add"]
    assert tool["calls"] == 1500  # counts since start
    assert (tool["p50_ms"], tool["p95_ms"], tool["p99_ms"]) == (1000.0, 1450.0, 1490.0)
    assert stats.max_seconds == pytest.approx(1.5) and stats.mean_seconds == pytest.approx(0.7505)


def test_the_monitor_ring_keeps_the_last_n_calls_and_recent_is_newest_first() -> None:
    monitor = Monitor(journal_size=5)
    records = [finished("add" if i % 2 else "sub", seconds=0.001, ok=i != 7) for i in range(8)]
    for record in records:
        monitor.finish(record)
    assert [r.id for r in monitor.journal] == [r.id for r in records[3:]]
    assert [r.id for r in monitor.recent()] == [r.id for r in reversed(records[3:])]
    assert [r.id for r in monitor.recent(limit=2)] == [records[7].id, records[6].id]
    assert [r.id for r in monitor.recent(tool="sub")] == [records[6].id, records[4].id]
    assert [r.id for r in monitor.recent(errors_only=True)] == [records[7].id]
    assert monitor.total_calls == 8 and monitor.usage.errors == 1  # counted, though not all kept
    assert monitor.find(records[0].id) is None and monitor.find(records[5].id) is records[5]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]


def test_calls_per_minute_over_the_last_hour() -> None:
    usage = Usage()
    with time_machine.travel(_utc(2026, 12, 1, 9, 30, 10), tick=False) as clock:
        for ok in (True, True, False):
            usage.add(finished(ok=ok))
        clock.move_to(_utc(2026, 12, 1, 9, 31, 59))
        usage.add(finished())
        usage.add(finished(ok=False))
        clock.move_to(_utc(2026, 12, 1, 9, 45, 0))
        usage.add(finished())

        now = usage.per_minute()
        assert len(now) == 60
        assert now[-1] == {"minute": "2026-12-01T09:45:00+00:00", "calls": 1, "errors": 0}
        assert now[-15] == {"minute": "2026-12-01T09:31:00+00:00", "calls": 2, "errors": 1}
        assert now[-16] == {"minute": "2026-12-01T09:30:00+00:00", "calls": 3, "errors": 1}
        assert now[0]["minute"] == "2026-12-01T08:46:00+00:00"
        assert sum(m["calls"] for m in now) == 6

        clock.move_to(_utc(2026, 12, 1, 10, 30, 5))  # an hour after 09:30: that minute left the window
        later = usage.snapshot()
        minutes = later["per_minute"]
        assert [m["minute"] for m in minutes[:2]] == [
            "2026-12-01T09:31:00+00:00",
            "2026-12-01T09:32:00+00:00",
        ]
        assert minutes[0] == {"minute": "2026-12-01T09:31:00+00:00", "calls": 2, "errors": 1}
        assert minutes[14] == {"minute": "2026-12-01T09:45:00+00:00", "calls": 1, "errors": 0}
        assert minutes[-1] == {"minute": "2026-12-01T10:30:00+00:00", "calls": 0, "errors": 0}
        assert sum(m["calls"] for m in minutes) == 3
        assert (later["total_calls"], later["errors"]) == (6, 2)  # the totals run since start


def test_minutes_older_than_the_hour_are_forgotten() -> None:
    usage = Usage()
    with time_machine.travel(_utc(2026, 12, 1, 0, 0, 30), tick=False) as clock:
        for minute in range(180):  # three hours, a call a minute
            clock.move_to(_utc(2026, 12, 1, minute // 60, minute % 60, 30))
            usage.add(finished())
        minutes = usage.per_minute()
        assert [m["calls"] for m in minutes] == [1] * 60
        assert minutes[0]["minute"] == "2026-12-01T02:00:00+00:00"
        assert len(usage._minutes) <= 61  # bounded, however long the server runs
        assert usage.total_calls == 180


def test_clients_are_counted_by_name_and_principal() -> None:
    usage = Usage()
    probe = {"name": "probe", "version": "9.1"}
    usage.add(finished(client=probe, principal="ci"))
    usage.add(finished(client=probe, principal="ci", ok=False))
    usage.add(finished(client=probe, principal="default"))
    usage.add(finished(principal="ci"))  # REST: a principal, no client info
    usage.add(finished())  # the notebook: neither
    clients = usage.snapshot()["clients"]
    assert clients == {
        "probe@ci": {"name": "probe", "principal": "ci", "calls": 2, "errors": 1},
        "probe@default": {"name": "probe", "principal": "default", "calls": 1, "errors": 0},
        "-@ci": {"name": None, "principal": "ci", "calls": 1, "errors": 0},
        "-@-": {"name": None, "principal": None, "calls": 1, "errors": 0},
    }
    assert client_key("claude-ai", "default") == "claude-ai@default"


def test_last_called_is_the_latest_start_in_iso_utc() -> None:
    usage = Usage()
    at = _utc(2026, 12, 1, 9, 30, 0).timestamp()
    usage.add(finished(started_at=at + 5.25))
    usage.add(finished(started_at=at + 1.0))  # finished later, started earlier
    assert usage.snapshot()["tools"]["add"]["last_called"] == "2026-12-01T09:30:05.250000+00:00"


def _server() -> tuple[MCPServer, threading.Event, threading.Event]:
    server = MCPServer("stats")
    entered, release = threading.Event(), threading.Event()

    @server.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise ToolError("no luck")

    @server.tool
    def hold() -> str:
        """Wait for the test."""
        entered.set()
        release.wait(10)
        return "released"

    @server.tool
    def unused() -> str:
        """Never called."""
        return ""

    return server, entered, release


def test_server_stats_and_calls_after_known_calls() -> None:
    server, _, _ = _server()
    for a in (1, 2, 3):
        assert server.call_tool_sync("add", {"a": a, "b": 10}, timeout=10)["isError"] is False
    assert server.call_tool_sync("fail", timeout=10)["isError"] is True

    stats = server.stats()
    assert json.loads(json.dumps(stats)) == stats  # JSON-able as it is
    assert list(stats) == ["total_calls", "errors", "tools", "clients", "per_minute", "uptime_s", "in_flight"]
    assert (stats["total_calls"], stats["errors"], stats["in_flight"]) == (4, 1, 0)
    assert stats["uptime_s"] == 0.0  # not serving
    assert {k: (v["calls"], v["errors"]) for k, v in stats["tools"].items()} == {
        "add": (3, 0),
        "fail": (1, 1),
        "hold": (0, 0),
        "unused": (0, 0),
    }
    assert stats["tools"]["unused"] == {
        "calls": 0, "errors": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "last_called": None,
    }  # fmt: skip
    add = stats["tools"]["add"]
    assert 0 < add["p50_ms"] <= add["p95_ms"] <= add["p99_ms"]
    assert datetime.fromisoformat(add["last_called"]).utcoffset() is not None
    assert stats["clients"] == {"-@-": {"name": None, "principal": None, "calls": 4, "errors": 1}}
    assert len(stats["per_minute"]) == 60 and sum(m["calls"] for m in stats["per_minute"]) == 4

    calls = server.calls()
    assert [c["tool"] for c in calls] == ["fail", "add", "add", "add"]
    assert [c["arguments"] for c in calls[1:]] == [{"a": 3, "b": 10}, {"a": 2, "b": 10}, {"a": 1, "b": 10}]
    assert len({c["id"] for c in calls}) == 4
    assert calls[0]["ok"] is False and calls[0]["error"] == "no luck"
    assert all(c["error"] is None and c["ok"] is True for c in calls[1:])
    fields = {"id", "tool", "arguments", "ok", "error", "summary", "duration_ms", "started_at", "ended_at",
              "transport", "client", "session_id", "principal", "output"}  # fmt: skip
    assert all(set(c) == fields for c in calls)
    assert all(c["transport"] == "notebook" and c["client"] is None and c["principal"] is None for c in calls)
    starts = [datetime.fromisoformat(c["started_at"]) for c in calls]
    assert starts == sorted(starts, reverse=True)
    assert [c["tool"] for c in server.calls(limit=2)] == ["fail", "add"]
    assert [c["tool"] for c in server.calls(errors_only=True)] == ["fail"]
    assert [c["arguments"]["a"] for c in server.calls(tool="add", limit=2)] == [3, 2]


def test_a_call_in_flight_is_counted_until_it_ends() -> None:
    server, entered, release = _server()
    future = server.submit_call("hold")
    try:
        assert entered.wait(10)
        during = server.stats()
        assert during["in_flight"] == 1 and during["total_calls"] == 0
        assert server.calls() == []  # finished calls only; the running one is in monitor.running
        (running,) = server.monitor.running.values()
        assert running.tool == "hold" and running.running
    finally:
        release.set()
    future.result(10)
    after = server.stats()
    assert (after["in_flight"], after["total_calls"]) == (0, 1)


def test_uptime_counts_while_serving() -> None:
    server, _, _ = _server()
    assert server.stats()["uptime_s"] == 0.0
    server.start()
    try:
        assert server.stats()["uptime_s"] > 0.0
    finally:
        server.stop()
    assert server.stats()["uptime_s"] == 0.0
