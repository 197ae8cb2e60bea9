"""``nbmcp serve NOTEBOOK.ipynb``: the cells run in the serving process, then its tools are served."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mcp_types as types
import nbformat
import pytest
from mcp import Client
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.notebook.mcpkit import call, rpc, run_async, text_of, tool_names
from tests.peers.tools import ROOT, free_port, nbmcp_serve

pytestmark = pytest.mark.timeout(180)

QUICKSTART = "notebooks/quickstart.ipynb"


def test_the_quickstart_is_served_to_a_plain_post_and_the_sdk() -> None:
    with nbmcp_serve(QUICKSTART) as url:
        assert tool_names(url) == {"top_products", "sales_chart", "revenue_by_region", "record_sale"}
        top = call(url, "top_products", {"n": 2})
        rows = top["structuredContent"]["result"]
        assert len(rows) == 2 and set(rows[0]) == {"product", "revenue"}
        assert "product" in text_of(top) and "revenue" in text_of(top)  # the readable table
        chart = call(url, "sales_chart", {"product": "Widget"})
        assert chart["content"][0]["type"] == "image" and chart["content"][0]["mimeType"] == "image/png"
        unknown = call(url, "sales_chart", {"product": "Nope"})
        assert unknown["isError"] is True and "unknown product" in text_of(unknown)

        async def sdk() -> None:
            async with Client(url) as client:
                listed = {t.name: t for t in (await client.list_tools()).tools}
                schema = listed["top_products"].input_schema
                assert schema["properties"]["n"]["default"] == 3
                assert "region" in schema["properties"]
                totals = await client.call_tool("revenue_by_region", {"currency": "EUR"})
                assert set(totals.structured_content or {}) == {"north", "south", "east", "west"}
                added = await client.call_tool(
                    "record_sale", {"product": "Sprocket", "region": "east", "units": 900, "price": 99.0}
                )
                assert isinstance(added.content[0], types.TextContent) and "recorded" in added.content[0].text
                # the notebook's globals live in the serving process: the new sale is seen
                top1 = await client.call_tool("top_products", {"n": 1})
                assert top1.structured_content == {"result": [{"product": "Sprocket", "revenue": 89100.0}]}

        run_async(sdk)


def write_notebook(path: Path, *cells: str, tags: dict[int, list[str]] | None = None) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# test")])
    for i, source in enumerate(cells):
        nb.cells.append(new_code_cell(source, metadata={"tags": (tags or {}).get(i, [])}))
    nbformat.write(nb, path)
    return path


def test_start_stop_cells_are_ignored_and_main_thread_tools_run_on_the_main_thread(tmp_path: Path) -> None:
    (tmp_path / "greeting.txt").write_text("hello from a file")
    path = write_notebook(
        tmp_path / "served.ipynb",
        "%load_ext nbmcp",
        "%matplotlib inline\nGREETING = open('greeting.txt').read()  # relative to the notebook",
        "%%mcp_tool\ndef greet() -> str:\n    return GREETING\n",
        "%%mcp_tool --main-thread\nimport threading\ndef where() -> str:\n"
        "    return threading.current_thread().name\n",
        "%mcp start --port 1",
        "%mcp stop",
        "%%mcp_tool\nasync def later(x: int) -> int:\n    return x * 2\n",
    )
    port = free_port()
    with nbmcp_serve(str(path), port=port) as url:
        assert url == f"http://127.0.0.1:{port}/mcp"
        assert {"greet", "where"} <= tool_names(url)  # /health answers from the `%mcp start` cell on
        assert text_of(call(url, "greet")) == "hello from a file"
        assert text_of(call(url, "where")) == "MainThread"
        assert call(url, "later", {"x": 21})["structuredContent"] == {"result": 42}


def test_a_notebook_without_start_is_served_after_its_last_cell(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "plain.ipynb",
        "%load_ext nbmcp",
        "%%mcp_tool\ndef ping() -> str:\n    return 'pong'\n",
        "raise RuntimeError('expected')",
        tags={2: ["raises-exception"]},
    )
    with nbmcp_serve(str(path), "--api-key", "k1") as url:
        listed = rpc(url, "tools/list", **{"X-API-Key": "k1"})
        assert [t["name"] for t in listed["tools"]] == ["ping"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbmcp.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_failing_cell_stops_with_its_number_and_traceback(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "broken.ipynb", "%load_ext nbmcp", "x = 1", "1 / 0")
    done = run_cli("serve", str(path), "--port", str(free_port()))
    assert done.returncode == 1
    assert "cell 4 failed" in done.stderr and "ZeroDivisionError" in done.stderr


def test_not_a_notebook_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ nope")
    done = run_cli("serve", str(bad))
    assert done.returncode == 1 and "is not a notebook" in done.stderr
    missing = run_cli("serve", str(tmp_path / "missing.ipynb"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_load_target_runs_a_notebook_and_returns_its_server(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "lt.ipynb", "%load_ext nbmcp", "%%mcp_tool\ndef one() -> int:\n    return 1\n"
    )
    code = (
        "from nbmcp.cli import load_target\n"
        f"server = load_target({str(path)!r})\n"
        "print(server.name, sorted(server.tools), server.url)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "lt ['one'] None"
