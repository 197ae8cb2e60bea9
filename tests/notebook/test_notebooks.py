"""Every notebook in notebooks/ runs top to bottom in a real kernel (nbclient), as CI and users run it."""

from __future__ import annotations

import functools
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebook.kernelkit import kernel_env

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.timeout(240)


@functools.cache
def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook once per test session, in its own folder, in a fresh python3 kernel."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=kernel_env())
    return nb


def outputs(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(str(out["data"].get("text/plain", "")))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


def test_there_are_notebooks() -> None:
    assert "quickstart.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    nb = execute(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        assert not errors or "raises-exception" in cell.metadata.get("tags", []), outputs(cell)
        stderr = [o for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
        assert not stderr, f"stderr in cell:\n{cell.source}\n{outputs(cell)}"


def test_quickstart_tells_its_story() -> None:
    nb = execute(ROOT / "notebooks" / "quickstart.ipynb")
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = {c.source.splitlines()[0]: outputs(c) for c in code}
    assert "nbmcp: serving" in shown["%mcp start"] and "/mcp" in shown["%mcp start"]
    client = shown["from mcp import Client"]
    assert "tools: top_products, sales_chart, revenue_by_region, record_sale" in client
    assert "recorded: 5 x Gizmo in west" in client
    images = [c for c in code if any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert len(images) >= 2  # the chart in the notebook, and the chart the client received
    assert "Gizmo" in shown["sales.tail(2)  # the client's sale is in the notebook's own table"]
    assert "revenue_by_region: ok" in shown["%mcp call revenue_by_region currency=EUR"]
    assert "serving at http://127.0.0.1:" in shown["%mcp status"]
