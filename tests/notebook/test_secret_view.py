"""The owner key display: masked in every output and in the widget's state; the key only in answers.

A real kernel shows ``OwnerKey`` for a server with a generated key; the test then acts as the
frontend: it finds the widget's comm in the ``comm_open`` message, sends the custom messages the
view's buttons send, and reads the kernel's custom answers from IOPub. A notebook executed with
nbclient (which saves widget state) and written to a file holds the masked key, never the key,
even though the key crossed IOPub during the run. Chromium (through Playwright) then runs the
view's own script against the kernel: Reveal shows the key and masks it again, Copy fills the
clipboard.
"""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from nbmcp.notebook.commands import mask
from tests.browserkit import CHROMIUM, require_chromium
from tests.notebook.kernelkit import Kernel, Reply

pytestmark = pytest.mark.timeout(120)

WIDGET = "application/vnd.jupyter.widget-view+json"

SETUP = """
from nbmcp import MCPServer
from nbmcp.notebook.secret_view import OwnerKey
server = MCPServer("secret-view", auth="oauth")
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels started here keep any OAuth state in memory, under a temporary config directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")
    monkeypatch.delenv("NBMCP_API_KEY", raising=False)


def _widget_open(reply: Reply) -> dict[str, Any]:
    """The ``comm_open`` message of the cell's owner-key widget."""
    opened = [
        m
        for m in reply.messages
        if m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get("_model_name") == "AnyModel"
    ]
    assert len(opened) == 1, [m["msg_type"] for m in reply.messages]
    return opened[0]


def _ask(kernel: Kernel, comm_id: str, content: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Send what a view's button sends; return the ``data`` of each comm message the kernel answered."""
    msg = kernel.kc.session.msg(
        "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}
    )
    kernel.kc.shell_channel.send(msg)
    deadline = time.monotonic() + timeout
    answers: list[dict[str, Any]] = []
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the kernel did not finish handling {content!r}"
        try:
            got = kernel.kc.get_iopub_msg(timeout=remaining)
        except queue.Empty:
            continue
        if got["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        if got["msg_type"] == "comm_msg":
            assert got["content"]["comm_id"] == comm_id
            answers.append(got["content"]["data"])
        elif got["msg_type"] == "status" and got["content"]["execution_state"] == "idle":
            return answers


def _custom(answers: list[dict[str, Any]]) -> list[Any]:
    return [a["content"] for a in answers if a["method"] == "custom"]


def test_load_ext_does_not_import_the_view(kernel: Kernel) -> None:
    modules = "{'nbmcp.notebook.secret_view', 'anywidget', 'ipywidgets'}"
    code = f"import sys; print(sorted({modules} & set(sys.modules)))"
    assert kernel.run(code).ok().stdout.strip() == "[]"


def test_the_key_travels_only_in_answers_to_the_view(kernel: Kernel) -> None:
    kernel.run(SETUP).ok()
    key = kernel.run("print(server.access_key)").ok().stdout.strip()
    assert len(key) >= 24
    shown = kernel.run("view = OwnerKey.of(server)\nview").ok()
    assert key not in json.dumps([m["content"] for m in shown.messages])  # comm_open states and outputs
    opened = _widget_open(shown)
    state = opened["content"]["data"]["state"]
    assert state["masked"] == mask(key) and state["reveal_seconds"] == 30
    assert "https://" not in state["_esm"] and "import " not in state["_esm"]  # inline: no CDN
    [result] = shown.results
    assert result[WIDGET]["model_id"] == opened["content"]["comm_id"]
    text = result["text/plain"]
    assert f"owner key {mask(key)} (generated for this kernel)" in text
    assert "server.access_key" in text and "print it only if you will not save the notebook" in text
    assert "NBMCP_API_KEY" in text

    comm_id = opened["content"]["comm_id"]
    assert _custom(_ask(kernel, comm_id, {"action": "reveal", "id": "r1"})) == [
        {"action": "reveal", "id": "r1", "key": key}
    ]
    assert _custom(_ask(kernel, comm_id, {"action": "copy", "id": "c1"})) == [
        {"action": "copy", "id": "c1", "key": key}
    ]
    for stray in ({"action": "steal", "id": "s"}, ["reveal"], "reveal", {"id": "x"}):
        assert _ask(kernel, comm_id, stray) == []

    kernel.run("server.config.api_key = 'rotated-owner-key-0123456789wxyz'").ok()  # read at message time
    answers = _ask(kernel, comm_id, {"action": "reveal", "id": "r2"})
    assert _custom(answers) == [{"action": "reveal", "id": "r2", "key": "rotated-owner-key-0123456789wxyz"}]
    assert [a["state"] for a in answers if a["method"] == "update"] == [{"masked": mask("wxyz" * 3)}]

    kernel.run("server.config.api_key = None").ok()
    assert _custom(_ask(kernel, comm_id, {"action": "copy", "id": 7})) == [
        {"action": "copy", "id": None, "error": "no owner key is set"}
    ]


def test_without_widgets_it_is_one_masked_line(kernel: Kernel) -> None:
    code = (
        "import sys\n"
        "sys.modules['anywidget'] = None  # as if not installed\n"
        "from nbmcp.notebook.secret_view import owner_key_view\n"
        "view = owner_key_view(lambda: 'a-key-of-thirty-two-characters-z', note='yours')\n"
        "display(view)\n"
        "print(view.widget)"
    )
    shown = kernel.run(code).ok()
    assert [m for m in shown.messages if m["msg_type"] == "comm_open"] == []
    assert [list(r) for r in shown.results] == [["text/plain"]]
    assert shown.results[0]["text/plain"].startswith(
        f"nbmcp: owner key {mask('a-key-of-thirty-two-characters-z')} (yours)\n"
    )
    assert "a-key-of-thirty-two" not in shown.results[0]["text/plain"]
    assert shown.stdout == "None\n"


class RecordingClient(NotebookClient):
    """nbclient, noting every comm message it handles (to show the key did cross IOPub)."""

    comm_seen: list[dict[str, Any]]

    def handle_comm_msg(self, outs: Any, msg: dict[str, Any], cell_index: int) -> None:
        self.comm_seen.append(msg["content"]["data"])
        super().handle_comm_msg(outs, msg, cell_index)


def test_a_saved_notebook_holds_the_masked_key_only(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.txt"  # the test learns the key here, outside the notebook
    cells = [
        "%load_ext nbmcp",
        SETUP + f"from pathlib import Path\nPath({str(keyfile)!r}).write_text(server.access_key)",
        "view = OwnerKey.of(server)\nview",
        # what the frontend's Reveal does: the answer holding the key goes out on IOPub in this cell
        'view.widget._handle_msg({"content": {"data": {"method": "custom", '
        '"content": {"action": "reveal", "id": "nb"}}}, "buffers": []})',
        "print(repr(view))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = RecordingClient(
        nb,
        timeout=60,
        kernel_name="python3",
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.comm_seen = []
    client.execute()
    key = keyfile.read_text()
    assert len(key) >= 24
    assert {"method": "custom", "content": {"action": "reveal", "id": "nb", "key": key}} in client.comm_seen

    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text(encoding="utf-8")
    assert key not in text
    assert mask(key) in text
    widgets = json.loads(text)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    states = [w["state"] for w in widgets.values() if w["model_name"] == "AnyModel"]
    assert [s["masked"] for s in states] == [mask(key)]
    outputs = [o for cell in json.loads(text)["cells"] for o in cell["outputs"]]
    assert (
        sum(mask(key) in json.dumps(o, ensure_ascii=False) for o in outputs) == 2
    )  # the widget's text and the printed repr


HARNESS = """<!doctype html><meta charset="utf-8"><div id="out"></div>
<script type="module">
const state = %s;
const handlers = {};
const emit = (event, ...args) => (handlers[event] || []).forEach((f) => f(...args));
const model = {
  get: (name) => state[name],
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
  off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
  send: (content) => window.kernelSend(content).then((answers) => answers.forEach((a) => {
    if (a.method === "update") {
      Object.assign(state, a.state);
      Object.keys(a.state).forEach((name) => emit("change:" + name));
    }
    if (a.method === "custom") emit("msg:custom", a.content, []);
  })),
};
const url = URL.createObjectURL(new Blob([state._esm], { type: "text/javascript" }));
const view = (await import(url)).default;
view.render({ model, el: document.getElementById("out") });
window.ready = true;
</script>"""


def test_the_view_reveals_masks_again_and_copies_in_chromium(kernel: Kernel) -> None:
    require_chromium()
    from playwright import sync_api

    kernel.run(SETUP).ok()
    key = kernel.run("print(server.access_key)").ok().stdout.strip()
    opened = _widget_open(kernel.run("view = OwnerKey.of(server, reveal_seconds=0.5)\nview").ok())
    comm_id, state = opened["content"]["comm_id"], opened["content"]["data"]["state"]
    page_url = "http://127.0.0.1:9/owner-key.html"  # answered by the route below, never by the network

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.expose_function("kernelSend", lambda content: _ask(kernel, comm_id, content))
            page.route(
                page_url,
                lambda route: route.fulfill(content_type="text/html", body=HARNESS % json.dumps(state)),
            )
            page.goto(page_url)
            page.wait_for_function("window.ready === true", timeout=10_000)
            code = page.locator(".nbmcp-owner-key code")
            assert code.inner_text() == mask(key)

            def code_is(text: str) -> None:
                page.wait_for_function(
                    "t => document.querySelector('.nbmcp-owner-key code').textContent === t",
                    arg=text,
                    timeout=10_000,
                )

            page.get_by_role("button", name="Reveal").click()
            code_is(key)
            assert "never saved" in page.locator(".nbmcp-status").inner_text()
            code_is(mask(key))  # masked again after reveal_seconds
            assert key not in page.content()

            page.get_by_role("button", name="Reveal").click()
            code_is(key)
            page.get_by_role("button", name="Hide").click()
            code_is(mask(key))

            page.get_by_role("button", name="Copy").click()
            page.wait_for_function(
                "() => document.querySelector('.nbmcp-status').textContent === 'copied'", timeout=10_000
            )
            assert page.evaluate("navigator.clipboard.readText()") == key
            assert key not in page.content()
        finally:
            browser.close()
