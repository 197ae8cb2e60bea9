"""The dashboard in real frontends: JupyterLab 4 and Notebook 7, driven by Debian's chromium.

Each test starts the app on 127.0.0.1 (:mod:`tests.dashboard.jupyter`), writes a notebook into
its root, opens it, runs every cell from the Run menu (tools by ``%%mcp_tool``, ``%mcp start
--port 0``, ``%mcp monitor``), then acts from outside: MCP calls over httpx, a call held in
flight, the "try it" form, the filter, the tabs, 1,000 calls. Every check waits on what the
screen shows, bounded; how long the screen took is printed (a figure, not a test). The browser
may reach nothing but the Jupyter server: the widgets render offline. Screenshots go to
``tests/artifacts/dashboard/`` (``NBMCP_ARTIFACTS`` elsewhere); with ``NBMCP_UPDATE_DOCS=1``
JupyterLab's overview also goes to ``docs/dashboard.png`` for the README.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.browserkit import CHROMIUM, require_chromium
from tests.dashboard.cells import CELLS
from tests.dashboard.jupyter import jupyter_server, labextensions, write_notebook
from tests.dashboard.screen import REPO, Screen, load_calls, open_and_run
from tests.dashboard.sdk import sdk_session
from tests.notebook.mcpkit import call, text_of

pytestmark = pytest.mark.timeout(300)

require_chromium()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_the_widget_extensions_ship_with_the_pip_packages() -> None:
    listed = labextensions()
    for name in ("anywidget", "@jupyter-widgets/jupyterlab-manager"):
        assert re.search(rf"{re.escape(name)} v[\d.]+ .*enabled.*OK", listed), listed


@pytest.mark.parametrize("app", ["jupyterlab", "notebook"])
def test_the_dashboard_follows_calls_on_screen(app: str, browser: Any, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        jupyter = stack.enter_context(jupyter_server(tmp_path, app))
        name = write_notebook(jupyter.root, "dashboard.ipynb", CELLS)
        jupyter.open_session(name)
        context = browser.new_context(
            viewport={"width": 1360, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
        )
        outside: list[str] = []

        def only_jupyter(route: Any) -> None:
            if route.request.url.startswith(jupyter.base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_jupyter)
        page = context.new_page()
        crashes: list[str] = []
        page.on("pageerror", lambda error: crashes.append(f"{error}\n{error.stack}"))
        url = open_and_run(page, jupyter.url(name), app)
        screen = Screen(page)
        figures = [f"[dashboard:{app}]"]
        assert screen.counter("calls") == 0
        assert screen.root.locator('[data-fact="url"]').inner_text() == url

        # outside calls: the counters and the feed change on screen
        for a in (1, 2, 3):
            assert call(url, "add", {"a": a})["structuredContent"] == {"result": a + 1}
        assert call(url, "fail", {"reason": "on purpose"})["isError"] is True
        figures.append(f"4 calls on screen {screen.wait_counters(4, 1) * 1000:.0f} ms after the last answer")
        assert screen.rows() == [{"tool": "fail", "state": "error"}] + [{"tool": "add", "state": "ok"}] * 3
        failed = screen.root.locator(".nbmcp-call").first
        failed.locator("summary").click()
        assert "on purpose" in failed.locator(".nbmcp-error-text").inner_text()
        assert json.loads(failed.locator(".nbmcp-args").inner_text()) == {"reason": "on purpose"}
        tool = screen.root.locator('.nbmcp-tool[data-tool="add"]')
        assert tool.locator('[data-stat="calls"]').inner_text() == "3"

        # a client with a session (the official SDK's): counted as connected, named in the feed
        session = stack.enter_context(sdk_session(url, "claude-ai"))
        assert session("add", {"a": 9}).structured_content == {"result": 10}
        screen.wait_counters(5, 1)
        screen.wait("root.querySelector('[data-counter=clients]').textContent === '1'")
        assert screen.root.locator(".nbmcp-call").first.locator(".nbmcp-who").inner_text() == "claude-ai"

        # a call in flight is marked, then shows its outcome
        held = threading.Thread(target=call, args=(url, "hold"), kwargs={"timeout": 60})
        held.start()
        screen.wait("root.querySelector('.nbmcp-call[data-state=running][data-tool=hold]') !== null")
        assert screen.counter("in_flight") == 1
        assert text_of(call(url, "release")) == "done"
        held.join(60)
        screen.wait_counters(7, 1)
        assert screen.rows()[:2] == [{"tool": "release", "state": "ok"}, {"tool": "hold", "state": "ok"}]

        # the "try it" form runs the call in the kernel's server and shows the result
        tool.locator(".nbmcp-try-toggle").click()
        tool.locator('[data-arg="a"]').fill("20")
        tool.locator('[data-arg="b"]').fill("22")
        tool.locator('button[type="submit"]').click()
        screen.wait(
            "(root.querySelector('[data-tool=add] .nbmcp-try-result') || {}).textContent?.includes('42')"
        )
        screen.wait_counters(8, 1)
        first = screen.root.locator(".nbmcp-call").first
        assert (
            first.get_attribute("data-tool") == "add"
            and "notebook" in first.locator(".nbmcp-who").inner_text()
        )

        # 1,000 calls: the screen ends on the exact totals
        load = load_calls(url)
        shown = screen.wait_counters(1008, 101)
        figures.append(
            f"1000 calls in {load:.1f} s; exact totals on screen {shown * 1000:.0f} ms after the last answer"
        )
        assert tool.locator('[data-stat="calls"]').inner_text() == "905"
        failed = screen.root.locator('.nbmcp-call[data-state="error"]').first
        failed.locator("summary").click()
        overview = screen.shot(f"{app}-calls.png")

        # filter by tool, errors only
        screen.root.locator(".nbmcp-filter").select_option("fail")
        assert {r["tool"] for r in screen.rows()} == {"fail"}
        screen.root.locator(".nbmcp-filter").select_option("")
        screen.root.locator(".nbmcp-errors-only").check()
        assert {r["state"] for r in screen.rows()} == {"error"}
        screen.root.locator(".nbmcp-errors-only").uncheck()

        # statistics, the Action schema (copy, download), the connect settings
        screen.root.locator('[data-tab="stats"]').click()
        screen.wait("root.querySelectorAll('.nbmcp-stats-pane svg.nbmcp-chart rect.nbmcp-bar-ok').length > 0")
        assert screen.root.locator(".nbmcp-stats-pane svg.nbmcp-chart").count() == 3
        screen.shot(f"{app}-stats.png")
        screen.root.locator('[data-tab="schema"]').click()
        schema = screen.root.locator(".nbmcp-schema-pane")
        assert "ChatGPT Action schema" in schema.inner_text() and "4 operation(s)" in schema.inner_text()
        with page.expect_download() as download:
            schema.get_by_role("button", name="Download").click()
        assert download.value.suggested_filename == "openapi.json"
        document = json.loads(Path(download.value.path()).read_text())
        assert "/tools/add" in document["paths"]
        schema.get_by_role("button", name="Copy").click()
        screen.wait("root.querySelector('.nbmcp-schema-pane button').textContent === 'Copied'")
        assert json.loads(page.evaluate("navigator.clipboard.readText()")) == document
        screen.shot(f"{app}-schema.png")
        screen.root.locator('[data-tab="connect"]').click()
        chatgpt = screen.root.locator('.nbmcp-connect-entry[data-client="chatgpt"]')
        assert url.removesuffix("/mcp") in chatgpt.inner_text()
        screen.shot(f"{app}-connect.png")

        assert outside == []  # offline: the widget's code came from the Jupyter server alone
        ours = [c for c in crashes if "blob:" in c]  # anywidget imports the view's module from a blob: URL
        assert ours == [], ours
        figures += [f"(the app's own page error: {c.splitlines()[0]})" for c in crashes if c not in ours]
        print("\n" + "; ".join(figures))
        if app == "jupyterlab" and os.environ.get("NBMCP_UPDATE_DOCS") == "1":
            shutil.copyfile(overview, REPO / "docs" / "dashboard.png")
        context.close()
