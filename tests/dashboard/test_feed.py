"""The updater without a kernel: one queue, one thread, batched pushes, exact totals, redacted rows.

A real server on a free port takes calls from many threads at once; the feed's ``push`` is a
recorder. Waiting is bounded polling of what was pushed.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from nbmcp import MCPServer
from nbmcp.notebook.dashboard import panes, show_dashboard
from nbmcp.notebook.dashboard.feed import Feed
from nbmcp.notebook.dashboard.static import StaticDashboard, render_html, render_text, snapshot
from nbmcp.notebook.dashboard.timeline import Timeline
from nbmcp.notebook.dashboard.trycall import start_call

pytestmark = pytest.mark.timeout(120)

KEY = "owner-key-0123456789-abcdefgh"


def build() -> MCPServer:
    server = MCPServer("feed", api_key=KEY)

    @server.tool
    def add(a: int, b: int = 1) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    def fail(reason: str) -> str:
        """Always fails."""
        raise ValueError(reason)

    @server.tool
    def login(user: str, api_key: str) -> str:
        """Echo the caller's key back (a tool that leaks the owner key)."""
        print(f"logging in {user} with {api_key}")
        return f"key was {api_key}"

    return server


@pytest.fixture
def server() -> Iterator[MCPServer]:
    server = build()
    server.start()
    yield server
    server.stop()


class Recorder:
    """A ``push``: keeps the state as a view would hold it, and when each push came."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, changes: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        with self.lock:
            self.times.append(time.monotonic())
            self.state.update(changes)
            self.messages.extend(messages)

    def wait(self, ready: Any, what: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if ready(self.state):
                    return dict(self.state)
            assert time.monotonic() < deadline, f"never pushed {what}: {self.state.get('totals')}"
            time.sleep(0.01)


def test_hz_is_ten_or_fewer(server: MCPServer) -> None:
    for hz in (0, -1, 10.5, 100):
        with pytest.raises(ValueError, match="hz must be in"):
            Feed(server, Recorder(), hz=hz)


def test_calls_from_many_threads_end_on_exact_totals_in_few_batches(server: MCPServer) -> None:
    recorder = Recorder()
    feed = Feed(server, recorder)
    recorder.state.update(feed.open())
    feed.start()
    try:
        total, threads = 2000, 16

        def one(i: int) -> None:
            if i % 20 == 0:
                server.call_tool_sync("fail", {"reason": f"r{i}"}, timeout=30)
            else:
                server.call_tool_sync("add", {"a": i}, timeout=30)

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(total)))
        want = {"total_calls": total, "errors": total // 20, "in_flight": 0}

        # The totals go every tick; under such a burst the rows follow within a second.
        def settled(s: dict[str, Any]) -> bool:
            rows = s.get("feed") or []
            return (
                s.get("totals") == want and len(rows) >= 100 and {r["tool"] for r in rows} == {"add", "fail"}
            )

        state = recorder.wait(settled, "the totals and the rows")
        assert {t["name"]: t["calls"] for t in state["tools"]} == {"add": 1900, "fail": 100, "login": 0}
        assert feed.finished == total and feed.dropped == 0
        assert sum(state["timeline"]["calls"]) == total and sum(state["timeline"]["errors"]) == 100
        rows = state["feed"]
        assert len({r["id"] for r in rows}) == len(rows) >= 100
        assert [r["started"] for r in rows] == sorted((r["started"] for r in rows), reverse=True)
        assert {r["tool"] for r in rows} == {"add", "fail"}
        assert len(recorder.times) < total  # batched
        gaps = [b - a for a, b in itertools.pairwise(recorder.times)]
        assert not gaps or min(gaps) >= feed.interval * 0.95  # one push a tick, at most 10 a second
        assert state["meta"]["seq"] == feed.pushes == len(recorder.times)
    finally:
        feed.close()
    assert not feed.alive


def test_a_late_dashboard_shows_the_journal_and_counts_each_call_once(server: MCPServer) -> None:
    for a in range(5):
        server.call_tool_sync("add", {"a": a})
    recorder = Recorder()
    feed = Feed(server, recorder)
    state = feed.open()
    assert [r["arguments"] for r in state["feed"]][:1] == ['{\n  "a": 4\n}']
    assert len(state["feed"]) == 5 and sum(state["timeline"]["calls"]) == 5
    recorder.state.update(state)
    feed.start()
    try:
        server.call_tool_sync("add", {"a": 5})
        pushed = recorder.wait(lambda s: s["totals"]["total_calls"] == 6, "the sixth call")
        assert sum(pushed["timeline"]["calls"]) == 6 and len(pushed["feed"]) == 6
    finally:
        feed.close()


def test_rows_are_redacted_and_in_flight_rows_carry_no_outcome(server: MCPServer) -> None:
    server.call_tool_sync("login", {"user": "ada", "api_key": KEY})
    [record] = list(server.monitor.journal)
    row = panes.call_row(server.monitor, record, finished=True)
    assert KEY not in str(row)
    assert '"api_key": "***"' in row["arguments"] and '"user": "ada"' in row["arguments"]
    assert row["state"] == "ok" and row["summary"] == "key was ***"  # (prints are kept only in a kernel)
    running = panes.call_row(server.monitor, record, finished=False)
    assert running["state"] == "running"
    assert {k: running[k] for k in ("ok", "error", "duration_ms", "summary", "output")} == {
        "ok": None,
        "error": None,
        "duration_ms": None,
        "summary": None,
        "output": "",
    }
    assert panes.cut("x" * 10, 4) == "xxxx\n[... 6 more characters]"


def test_the_timeline_counts_by_bucket_and_forgets_the_old() -> None:
    timeline = Timeline(bucket_seconds=5, buckets=4)
    for t, ok in [(100.0, True), (101.0, False), (104.9, True), (105.0, True), (119.0, True)]:
        timeline.count(t, ok)
    assert timeline.view(now=119.5) == {
        "bucket_s": 5,
        "end": 120,
        "calls": [3, 1, 0, 1],
        "errors": [1, 0, 0, 0],
    }
    assert timeline.view(now=104.0) == {
        "bucket_s": 5,
        "end": 105,
        "calls": [0, 0, 0, 3],
        "errors": [0, 0, 0, 1],
    }
    timeline.count(140.0, True)  # a new bucket far ahead drops those four or more behind it
    assert timeline.view(now=140.0)["calls"] == [0, 0, 0, 1] and len(timeline._counts) == 1


def test_try_it_answers_every_request_and_scrubs_the_key(server: MCPServer) -> None:
    answers: list[dict[str, Any]] = []
    got = threading.Event()

    def reply(message: dict[str, Any]) -> None:
        answers.append(message)
        got.set()

    def ask(content: Any) -> dict[str, Any]:
        got.clear()
        answers.clear()
        assert start_call(server, content, reply) is True
        assert got.wait(30)
        return answers[0]

    assert start_call(server, {"action": "reveal"}, reply) is False
    assert start_call(server, ["call"], reply) is False
    good = ask({"action": "call", "id": "1", "tool": "add", "arguments": {"a": 1, "b": 2}})
    assert good["ok"] is True and good["result"]["structuredContent"] == {"result": 3}
    assert good["call_id"] == server.monitor.journal[-1].id
    leaked = ask({"action": "call", "id": "2", "tool": "login", "arguments": {"user": "u", "api_key": KEY}})
    assert KEY not in str(leaked) and "***" in leaked["result"]["content"][0]["text"]
    invalid = ask({"action": "call", "id": "3", "tool": "add", "arguments": {"a": "x"}})
    assert invalid["ok"] is False and invalid["result"]["isError"] is True
    assert "no tool named" in ask({"action": "call", "id": "4", "tool": "gone"})["error"]
    assert ask({"action": "call", "id": 5, "tool": "add", "arguments": "a=1"})["id"] is None


def test_static_snapshot_and_outside_a_kernel(server: MCPServer) -> None:
    server.call_tool_sync("add", {"a": 1})
    server.call_tool_sync("fail", {"reason": "no"})
    shown = show_dashboard(server)  # no kernel here: a snapshot, no widget or thread
    assert isinstance(shown, StaticDashboard)
    state = snapshot(server)
    text, page = render_text(state), render_html(state)
    assert "calls    2 (1 errors, 0 in flight)" in text and re.search(r"\n  fail +1 +1 ", text)
    assert "class='nbmcp-dashboard nbmcp-dashboard-static'" in page and "<script" not in page
    assert "reason" not in page and "reason" not in text  # never a call's arguments (outputs are saved)
    bundle = shown._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert repr(shown).startswith("nbmcp dashboard (snapshot)")


def test_the_widget_outside_a_kernel_stops_its_updater_on_close(server: MCPServer) -> None:
    from nbmcp.notebook.dashboard.widget import Dashboard

    dashboard = Dashboard.of(server)
    try:
        assert Dashboard.of(server) is dashboard
        assert dashboard.updater.alive and dashboard.totals["total_calls"] == 0
        data, _ = dashboard._repr_mimebundle_()
        assert {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"} <= set(data)
    finally:
        dashboard.close()
    assert not dashboard.updater.alive
    other = Dashboard.of(server)
    assert other is not dashboard
    other.close()
