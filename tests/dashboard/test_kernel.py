"""``%mcp monitor`` in a real kernel: the widget's messages carry exact totals, live, in batches.

The test is the frontend: it reads the dashboard's ``comm_open`` and every ``update`` the
updater thread sends on IOPub (outside any cell), folds them into the state a widget manager
would hold, and makes outside calls with httpx meanwhile. It also sends what the "try it" form
sends and reads the kernel's answer. Under 1,000 outside calls the kernel keeps answering
``1+1`` (its latencies are printed, not judged) and the dashboard ends on the exact totals.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.dashboard.cells import ADD, FAIL, MONITOR, START, url_in
from tests.dashboard.kit import WIDGET_MIME, WatchedKernel
from tests.notebook.kernelkit import sent_at
from tests.notebook.mcpkit import call

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def kernel() -> Iterator[WatchedKernel]:
    k = WatchedKernel()
    try:
        k.run("%load_ext nbmcp").ok()
        yield k
    finally:
        k.shutdown()


@pytest.fixture
def served(kernel: WatchedKernel) -> tuple[WatchedKernel, str]:
    """The kernel with the two tools, serving on a free port."""
    kernel.run(ADD).ok()
    kernel.run(FAIL).ok()
    return kernel, url_in(kernel.run(START).ok().stdout)


def _totals(calls: int, errors: int) -> Any:
    return lambda state: state.get("totals") == {"total_calls": calls, "errors": errors, "in_flight": 0}


def test_load_ext_imports_no_dashboard(kernel: WatchedKernel) -> None:
    code = (
        "import sys; print(sorted(m for m in sys.modules if m.startswith('nbmcp.notebook.dashboard') "
        "or m.split('.')[0] in ('anywidget', 'ipywidgets')))"
    )
    assert kernel.run(code).ok().stdout.strip() == "[]"


def test_outside_calls_show_with_exact_totals(served: tuple[WatchedKernel, str]) -> None:
    kernel, url = served
    shown = kernel.run(MONITOR).ok()
    comm = kernel.dashboard_comm(shown)
    opened = kernel.state_of(comm)
    assert opened["totals"] == {"total_calls": 0, "errors": 0, "in_flight": 0}
    assert [t["name"] for t in opened["tools"]] == ["add", "fail"]
    assert opened["tools"][0]["input_schema"]["required"] == ["a"]
    assert opened["facts"]["url"] == url and opened["facts"]["auth_mode"] == "none"
    assert opened["facts"]["tunnel_state"] == "none" and opened["facts"]["sessions"] == 0
    assert opened["schema"]["operations"] == 2 and opened["schema"]["document"]["paths"]
    assert "chatgpt" in [c["id"] for c in opened["connect"]["clients"]]
    esm = opened["_esm"]
    assert "nbmcp-dashboard" in esm and "export default" in esm
    assert "https://" not in esm and "http://" not in esm.replace("http://www.w3.org/2000/svg", "")
    assert "import " not in esm.replace("important", "")  # inline: nothing fetched
    [bundle] = [r for r in shown.results if WIDGET_MIME in r]
    assert "nbmcp-dashboard" in bundle["text/html"] and "nbmcp dashboard" in bundle["text/plain"]

    for a in (1, 2, 3):
        assert call(url, "add", {"a": a})["structuredContent"] == {"result": a + 1}
    assert call(url, "fail", {"reason": "on purpose"})["isError"] is True

    state = kernel.wait_state(comm, _totals(4, 1), "4 calls, 1 error")
    tools = {t["name"]: (t["calls"], t["errors"]) for t in state["tools"]}
    assert tools == {"add": (3, 0), "fail": (1, 1)}
    assert all(t["p95_ms"] is not None and t["p95_ms"] >= 0 for t in state["tools"])
    feed = state["feed"]
    assert [(r["tool"], r["state"]) for r in feed] == [
        ("fail", "error"),
        ("add", "ok"),
        ("add", "ok"),
        ("add", "ok"),
    ]
    assert [json.loads(r["arguments"]) for r in feed] == [
        {"reason": "on purpose"},
        {"a": 3},
        {"a": 2},
        {"a": 1},
    ]
    assert "on purpose" in feed[0]["error"] and feed[1]["error"] is None
    assert all(r["transport"] == "mcp" and r["duration_ms"] is not None for r in feed)
    ids = (
        kernel.run("import nbmcp; print(*[c['id'] for c in nbmcp.current_server().calls()])")
        .ok()
        .stdout.split()
    )
    assert [r["id"] for r in feed] == ids
    assert sum(state["timeline"]["calls"]) == 4 and sum(state["timeline"]["errors"]) == 1
    assert state["meta"]["events"] == 4 and state["meta"]["dropped"] == 0

    again = kernel.run(MONITOR).ok()  # one dashboard per server: shown again, the same widget
    assert [r[WIDGET_MIME]["model_id"] for r in again.results if WIDGET_MIME in r] == [comm]


def test_the_try_it_form_calls_through_the_server(served: tuple[WatchedKernel, str]) -> None:
    kernel, _ = served
    comm = kernel.dashboard_comm(kernel.run(MONITOR).ok())
    kernel.send_custom(comm, {"action": "call", "id": "t1", "tool": "add", "arguments": {"a": 2, "b": 3}})
    answer = kernel.wait_custom(comm, lambda c: c.get("id") == "t1", "the try-it call")
    assert answer["ok"] is True and answer["action"] == "result" and answer["tool"] == "add"
    assert answer["result"]["structuredContent"] == {"result": 5}
    assert answer["call_id"] and answer["duration_ms"] >= 0
    state = kernel.wait_state(comm, _totals(1, 0), "the try-it call counted")
    assert [(r["id"], r["transport"]) for r in state["feed"]] == [(answer["call_id"], "notebook")]

    kernel.send_custom(comm, {"action": "call", "id": "t2", "tool": "fail", "arguments": {"reason": "tried"}})
    failed = kernel.wait_custom(comm, lambda c: c.get("id") == "t2", "the failing try-it call")
    assert failed["ok"] is False and "tried" in failed["result"]["content"][0]["text"]
    kernel.send_custom(comm, {"action": "call", "id": "t3", "tool": "nope", "arguments": {}})
    missing = kernel.wait_custom(comm, lambda c: c.get("id") == "t3", "the unknown tool")
    assert missing == {"action": "result", "id": "t3", "tool": "nope", "ok": False, "error": missing["error"]}
    assert "no tool named 'nope'" in missing["error"]
    kernel.send_custom(comm, {"action": "call", "id": "t4", "tool": "add", "arguments": [1]})
    assert "JSON object" in kernel.wait_custom(comm, lambda c: c.get("id") == "t4", "bad arguments")["error"]
    kernel.wait_state(comm, _totals(2, 1), "both calls counted")


def test_a_thousand_outside_calls_end_on_exact_totals(served: tuple[WatchedKernel, str]) -> None:
    kernel, url = served
    comm = kernel.dashboard_comm(kernel.run(MONITOR).ok())
    total, every, threads, seconds = 1000, 10, 4, 10.0
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2

    def client(k: int) -> None:
        with httpx.Client(timeout=30) as http:
            for i in range(k, total, threads):
                pause = t0 + i * seconds / total - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # paces the load over ~10 s; no assertion waits on it
                name, args = ("fail", {"reason": f"r{i}"}) if i % every == 0 else ("add", {"a": i})
                body = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "tools/call",
                    "params": {"name": name, "arguments": args},
                }
                answer = http.post(url, json=body).json()
                if answer.get("result", {}).get("isError") is not (name == "fail"):
                    failures.append(json.dumps(answer)[:200])
                with lock:
                    answered[0] += 1

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    pings: list[float] = []
    while any(w.is_alive() for w in workers):
        started = time.perf_counter()
        assert kernel.run("1+1", timeout=30).ok().text == "2"
        pings.append((time.perf_counter() - started) * 1000)
    for worker in workers:
        worker.join(60)
    load_seconds = time.monotonic() - t0
    assert failures == [] and answered[0] == total
    done = time.monotonic()
    state = kernel.wait_state(comm, _totals(total, total // every), "1,000 calls, 100 errors")
    shown_after = time.monotonic() - done
    tools = {t["name"]: (t["calls"], t["errors"]) for t in state["tools"]}
    assert tools == {"add": (900, 0), "fail": (100, 100)}
    assert state["meta"]["events"] == total and state["meta"]["dropped"] == 0
    assert sum(state["timeline"]["calls"]) == total and sum(state["timeline"]["errors"]) == 100
    assert len(state["feed"]) >= 100 and state["feed"][0]["state"] in ("ok", "error")

    updates = kernel.updates(comm)
    dates = [sent_at(m) for m in updates]
    gaps = [(b - a) / dt.timedelta(seconds=1) for a, b in itertools.pairwise(dates)]
    assert len(updates) < total  # batched: one update a tick, however many calls it carried
    assert min(gaps) >= 0.095, min(gaps)  # the updater pushes at most 10 times a second
    print(
        f"\n[dashboard] {total} calls ({threads} clients) in {load_seconds:.1f} s; "
        f"{len(updates)} widget updates ({len(updates) / load_seconds:.1f}/s, "
        f"min gap {min(gaps) * 1000:.0f} ms); "
        f"exact totals on the widget {shown_after * 1000:.0f} ms after the last answer"
        f"\n[dashboard] kernel 1+1 during the load: n={len(pings)} median {statistics.median(pings):.1f} ms "
        f"max {max(pings):.1f} ms (round trip through jupyter_client)"
    )
