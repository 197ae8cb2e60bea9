"""The notebook page a browser test drives, and what the dashboard on it shows.

:func:`open_and_run` opens a notebook once its kernel is connected and runs every cell from the
Run menu; :class:`Screen` reads the dashboard's counters and rows and waits (bounded) for what
it shows; :func:`load_calls` makes 1,000 outside calls over ten seconds.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NBMCP_ARTIFACTS") or REPO / "tests" / "artifacts") / "dashboard"
SCREEN = 10_000
"""Milliseconds a check waits for the screen to show a change (it should take well under 1 s)."""


class Screen:
    """The page with the notebook, and what the dashboard on it shows."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.root = page.locator(".nbmcp-dashboard")

    def counter(self, key: str) -> int:
        return int(self.root.locator(f'[data-counter="{key}"]').inner_text().replace(",", ""))

    def wait(self, script: str, arg: Any = None, what: str = "") -> float:
        """Wait until ``script`` (a function of the dashboard's root and ``arg``) is true; seconds taken."""
        started = time.monotonic()
        self.page.wait_for_function(
            "([a]) => { const root = document.querySelector('.nbmcp-dashboard');"
            f" return !!root && ({script}); }}",
            arg=[arg],
            timeout=SCREEN,
        )
        return time.monotonic() - started

    def wait_counters(self, calls: int, errors: int, in_flight: int = 0) -> float:
        want = {"calls": calls, "errors": errors, "in_flight": in_flight}
        return self.wait(
            "Object.entries(a).every(([k, v]) => root.querySelector(`[data-counter=${k}]`).textContent"
            ".replace(/,/g, '') === String(v))",
            want,
        )

    def rows(self) -> list[dict[str, str]]:
        return [
            {"tool": r["tool"], "state": r["state"]}
            for r in self.page.eval_on_selector_all(
                ".nbmcp-dashboard .nbmcp-call:not([hidden])", "rows => rows.map(r => ({...r.dataset}))"
            )
        ]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.root.screenshot(path=str(path))
        return path


def open_and_run(page: Any, url: str, app: str) -> str:
    """Open the notebook, run all its cells from the Run menu; returns the server's /mcp URL."""
    try:
        return _run_all(page, url)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{app}-failed-open.png"))
        raise


def _run_all(page: Any, url: str) -> str:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(  # connected: the toolbar names the kernel (before, "No Kernel"), and it is idle
        "() => (document.querySelector('.jp-KernelName') || {}).textContent === 'Python 3 (ipykernel)'"
        " && (document.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}})"
        ".dataset.status === 'idle'",
        timeout=60_000,
    )
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('[data-command="runmenu:run-all"]').click()
    page.wait_for_selector(".nbmcp-dashboard", state="visible", timeout=90_000)
    outputs = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    assert f"kernel python: {sys.executable}" in outputs, outputs  # this venv's ipykernel runs the cells
    found = re.search(r"serving .* at (http://127\.0\.0\.1:\d+/mcp)", outputs)
    assert found, outputs
    return found.group(1)


def load_calls(url: str, total: int = 1000, threads: int = 4, seconds: float = 10.0) -> float:
    """``total`` calls over ``seconds`` from ``threads`` clients, every tenth failing; seconds taken."""
    bad: list[str] = []
    t0 = time.monotonic()

    def client(k: int) -> None:
        with httpx.Client(timeout=30) as http:
            for i in range(k, total, threads):
                pause = t0 + i * seconds / total - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # paces the load; nothing is asserted after it
                name, args = ("fail", {"reason": f"r{i}"}) if i % 10 == 0 else ("add", {"a": i})
                body = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "tools/call",
                    "params": {"name": name, "arguments": args},
                }
                if http.post(url, json=body).json()["result"].get("isError") is not (name == "fail"):
                    bad.append(name)

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert bad == []
    return time.monotonic() - t0
