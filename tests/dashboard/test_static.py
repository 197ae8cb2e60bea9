"""Where no widget runs: a kernel without anywidget, and a notebook run by nbclient, exported by nbconvert.

Without anywidget, ``%mcp monitor`` shows the static snapshot (HTML and text) and opens no comm.
With it, the output still carries the snapshot beside the widget's view, so nbconvert's
Markdown export, and its HTML export of a notebook saved without widget state, show the
server's facts, each tool's numbers and the last calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter, MarkdownExporter

from tests.dashboard.cells import ADD, FAIL, MONITOR
from tests.dashboard.kit import WIDGET_MIME
from tests.notebook.kernelkit import Kernel

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    k = Kernel()
    try:
        yield k
    finally:
        k.shutdown()


def test_without_anywidget_the_dashboard_is_a_snapshot(kernel: Kernel) -> None:
    kernel.run("import sys\nsys.modules['anywidget'] = None  # as if not installed\n%load_ext nbmcp").ok()
    kernel.run(ADD).ok()
    kernel.run("%mcp call add a=2").ok()
    shown = kernel.run(MONITOR).ok()
    assert [m for m in shown.messages if m["msg_type"] == "comm_open"] == []
    [result] = shown.results
    assert set(result) == {"text/html", "text/plain"}
    assert "nbmcp-dashboard-static" in result["text/html"] and "<script" not in result["text/html"]
    text = result["text/plain"]
    assert text.startswith("nbmcp dashboard (snapshot)") and "calls    1 (0 errors, 0 in flight)" in text


def test_nbconvert_exports_show_the_snapshot(tmp_path: Path) -> None:
    cells = ["%load_ext nbmcp", ADD, FAIL, "%mcp call add a=1", "%mcp call fail reason=x", MONITOR]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    [output] = nb.cells[-1].outputs
    assert {WIDGET_MIME, "text/html", "text/plain"} <= set(output["data"])

    markdown, _ = MarkdownExporter().from_notebook_node(nb)
    assert "nbmcp-dashboard-static" in markdown and "2 (1 errors, 0 in flight)" in markdown
    nb.metadata.pop("widgets", None)  # saved without widget state (JupyterLab's default)
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert "nbmcp-dashboard-static" in page and ">fail<" in page
