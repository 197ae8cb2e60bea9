"""The magics in real kernels (ipykernel via jupyter_client), judged from outside the kernel.

A ``%%mcp_tool`` cell and ``%mcp start`` serve a tool that the official MCP SDK and a plain
POST both list and call; re-running the cell changes the answer and tells connected clients;
the kernel stays responsive while a cell runs; stopping or restarting frees the port.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.notebook.kernelkit import Kernel, now
from tests.notebook.mcpkit import call, port_is_free, rpc, run_async, text_of, tool_names, wait_until
from tests.peers.tools import free_port

pytestmark = pytest.mark.timeout(180)

ADD = '''%%mcp_tool --read-only --title "Add numbers"
def helper(x):
    return x

def add(a: int, b: int) -> int:
    """Add two integers."""
    return helper(a) + b
'''

SLOW = """%%mcp_tool
import time
SLOW_ENDED = []
def slow(seconds: float) -> str:
    time.sleep(seconds)
    SLOW_ENDED.append(seconds)
    return 'done'
"""

PRINTING_ADD = '''%%mcp_tool
def add(a: int, b: int) -> int:
    """Add."""
    print("adding", a, b)
    return a + b
'''

PLAIN_DECORATOR = """import nbmcp
server = nbmcp.current_server()

@server.tool
def plain(x: int) -> int:
    return -x
"""


def table(text: str) -> list[dict[str, str]]:
    """The rows of a plain-text table as ``%mcp tools`` prints it (a header, a dashes line, rows)."""
    header, dashes, *rows = text.splitlines()
    spans, at = [], 0
    for dash in dashes.split("  "):
        if dash:
            spans.append((at, at + len(dash)))
        at += len(dash) + 2
    names = [header[a:b].strip() for a, b in spans]
    # the last column (the description) may be wider than its dashes
    spans[-1] = (spans[-1][0], None)  # type: ignore[assignment]
    return [{name: row[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)} for row in rows]


def test_table_reads_the_columns_of_mcp_tools() -> None:
    text = (
        "tool  arguments  runs           calls  errors  mean ms  description\n"
        "----  ---------  -------------  -----  ------  -------  -----------\n"
        "add   a, b       worker thread  13     1       1.1      Add two numbers, at length.\n"
        "x                main thread    3      0       0.2"
    )
    rows = table(text)
    assert rows[0] == {
        "tool": "add", "arguments": "a, b", "runs": "worker thread", "calls": "13", "errors": "1",
        "mean ms": "1.1", "description": "Add two numbers, at length.",
    }  # fmt: skip
    assert rows[1]["calls"] == "3" and rows[1]["arguments"] == "" and rows[1]["description"] == ""


def start(kernel: Kernel, *flags: str) -> tuple[int, str]:
    port = free_port()
    reply = kernel.run(f"%mcp start --port {port} {' '.join(flags)}").ok()
    url = f"http://127.0.0.1:{port}/mcp"
    assert url in reply.stdout, reply.stdout
    return port, url


def test_a_cell_becomes_a_tool_for_the_sdk_and_a_plain_post(kernel: Kernel) -> None:
    shown = kernel.run(ADD).ok()
    assert "tool add(a: int, b: int) -> int added" in shown.stdout
    kernel.run(
        "%%mcp_tool\nimport asyncio\nasync def shout(text: str) -> str:\n"
        '    """Upper-case, asynchronously."""\n    await asyncio.sleep(0)\n    return text.upper()\n'
    ).ok()
    _, url = start(kernel)

    assert tool_names(url) == {"add", "shout"}  # the helper stays a helper
    result = call(url, "add", {"a": 2, "b": 3})
    assert result["structuredContent"] == {"result": 5} and result["isError"] is False

    async def sdk() -> None:
        async with Client(url) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"add", "shout"}
            assert tools["add"].description == "Add two integers."
            assert tools["add"].title == "Add numbers"
            assert tools["add"].annotations is not None and tools["add"].annotations.read_only_hint is True
            assert tools["add"].input_schema["required"] == ["a", "b"]
            added = await client.call_tool("add", {"a": 40, "b": 2})
            assert added.structured_content == {"result": 42}
            shouted = await client.call_tool("shout", {"text": "hi"})
            assert isinstance(shouted.content[0], types.TextContent) and shouted.content[0].text == "HI"

    run_async(sdk)


def test_rerunning_the_cell_replaces_the_tool_and_tells_connected_clients(kernel: Kernel) -> None:
    kernel.run("%%mcp_tool\ndef answer() -> int:\n    return 1\n").ok()
    _, url = start(kernel)

    async def main() -> None:
        notes: list[Any] = []

        async def on_message(message: Any) -> None:
            if isinstance(message, Exception):
                raise message
            notes.append(message)

        def changed() -> int:
            return sum(isinstance(m, types.ToolListChangedNotification) for m in notes)

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, message_handler=on_message) as session,
        ):
            await session.initialize()
            assert (await session.call_tool("answer", {})).structured_content == {"result": 1}
            shown = await anyio.to_thread.run_sync(
                lambda: kernel.run("%%mcp_tool\ndef answer() -> int:\n    return 2\n").ok()
            )
            assert "tool answer() -> int replaced" in shown.stdout
            with anyio.fail_after(15):
                while changed() < 1:
                    await anyio.sleep(0.02)
            # the same session, the same server: no restart
            assert (await session.call_tool("answer", {})).structured_content == {"result": 2}

    run_async(main)


def test_tools_read_globals_set_in_later_cells(kernel: Kernel) -> None:
    kernel.run('%%mcp_tool\ndef greet(name: str) -> str:\n    return f"{GREETING}, {name}"\n').ok()
    _, url = start(kernel)
    failed = call(url, "greet", {"name": "Ada"})
    assert failed["isError"] is True and "GREETING" in text_of(failed)
    kernel.run("GREETING = 'Hello'").ok()
    assert text_of(call(url, "greet", {"name": "Ada"})) == "Hello, Ada"
    kernel.run("GREETING = 'Bonjour'").ok()
    assert text_of(call(url, "greet", {"name": "Ada"})) == "Bonjour, Ada"
    # and a tool can change them
    kernel.run(
        "%%mcp_tool\ndef bump() -> int:\n    global COUNTER\n    COUNTER += 1\n    return COUNTER\n"
    ).ok()
    kernel.run("COUNTER = 10").ok()
    call(url, "bump")
    assert kernel.run("COUNTER").ok().text == "11"


def test_stop_frees_the_port_and_start_again_is_immediate(kernel: Kernel) -> None:
    kernel.run(ADD).ok()
    port, url = start(kernel)
    assert not port_is_free(port)
    stopped = kernel.run("%mcp stop").ok()
    assert f"port {port} is free" in stopped.stdout
    assert port_is_free(port)
    # stop and start again in one cell: the same port at once (how fast: bench/kernel_bench.py)
    again = kernel.run(f"%mcp start --port {port}\n%mcp stop\n%mcp start --port {port}").ok()
    served = [line for line in again.stdout.splitlines() if line.startswith("nbmcp: serving")]
    assert len(served) == 2 and all(line.endswith(f"127.0.0.1:{port}/mcp") for line in served), again.stdout
    assert f"port {port} is free" in again.stdout
    assert call(url, "add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    # stop and start on the same port, many times, while a client has just called
    for _ in range(3):
        kernel.run(f"%mcp stop\n%mcp start --port {port}").ok()
        assert call(url, "add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}


def test_restarting_the_kernel_frees_the_port(kernel: Kernel) -> None:
    kernel.run(ADD).ok()
    port, url = start(kernel)
    assert call(url, "add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    kernel.restart()
    wait_until(lambda: port_is_free(port), 10, f"port {port} to be free after a restart")
    # the new kernel can take the same port at once
    kernel.run("%load_ext nbmcp").ok()
    kernel.run(ADD).ok()
    kernel.run(f"%mcp start --port {port}").ok()
    assert call(url, "add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}


def test_shutting_the_kernel_down_frees_the_port(bare_kernel: Kernel) -> None:
    bare_kernel.run("%load_ext nbmcp").ok()
    bare_kernel.run(ADD).ok()
    port, _ = start(bare_kernel)
    bare_kernel.km.shutdown_kernel(now=False)
    wait_until(lambda: port_is_free(port), 10, f"port {port} to be free after shutdown")


def test_a_call_made_while_a_cell_sleeps_is_answered_at_once_and_nothing_leaks(kernel: Kernel) -> None:
    kernel.run(ADD).ok()
    kernel.run(
        '%%mcp_tool\nimport warnings\ndef chatty(n: int) -> int:\n    print("tool says", n)\n'
        '    warnings.warn("careful with " + str(n))\n    return n\n'
    ).ok()
    _, url = start(kernel)
    call(url, "add", {"a": 0, "b": 0})  # warm
    sleeping = kernel.submit(
        "import time\nprint('cell starts', flush=True)\ntime.sleep(5)\nprint('cell ends', flush=True)"
    )
    started = kernel.wait_for_output(sleeping, "cell starts")  # the cell is in time.sleep now
    answered = []
    for i in range(5):
        assert call(url, "add", {"a": i, "b": 1})["structuredContent"] == {"result": i + 1}
        answered.append(now())
    assert call(url, "chatty", {"n": 7})["structuredContent"] == {"result": 7}
    # a bad request and an unknown path: the server's complaints must not reach the cell either
    rpc_error = httpx.post(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert rpc_error.status_code == 400
    missing = httpx.get(url.removesuffix("/mcp") + "/no/such/path")
    assert missing.status_code == 404
    answered.append(now())
    reply = kernel.collect(sleeping, timeout=30)
    # every answer came while the cell slept: none waited for the cell to end
    ended = reply.output_at("cell ends")
    assert reply.replied_at is not None
    assert started < answered[0] and answered[-1] < ended < reply.replied_at, (started, answered, ended)
    assert reply.error is None
    assert reply.stdout == "cell starts\ncell ends\n", reply.stdout
    assert reply.stderr == "", reply.stderr


def test_prints_and_warnings_go_to_the_call_record_not_to_a_cell(kernel: Kernel) -> None:
    kernel.run(
        '%%mcp_tool\nimport warnings\ndef chatty(n: int) -> int:\n    print("tool says", n)\n'
        '    warnings.warn("careful with " + str(n))\n    return n\n'
    ).ok()
    _, url = start(kernel)
    running = kernel.submit("import time\nprint('cell starts', flush=True)\ntime.sleep(3)")
    kernel.wait_for_output(running, "cell starts")
    call(url, "chatty", {"n": 7})
    answered = now()
    reply = kernel.collect(running, timeout=30)
    assert reply.replied_at is not None and answered < reply.replied_at  # it ran while the cell did
    assert reply.stdout == "cell starts\n" and reply.stderr == "", (reply.stdout, reply.stderr)
    record = kernel.run(
        "import nbmcp\nev = nbmcp.current_server().monitor.journal[-1]\nprint(repr(ev.output))"
    ).ok()
    assert "tool says 7" in record.stdout
    assert "careful with 7" in record.stdout and "UserWarning" in record.stdout
    # a later cell shows nothing of it either
    later = kernel.run("1 + 1").ok()
    assert later.stdout == "" and later.stderr == "" and later.text == "2"


def test_an_exception_is_an_error_result_and_a_timeout_answers_while_the_kernel_goes_on(
    kernel: Kernel,
) -> None:
    kernel.run("%config NbmcpMagics.tool_timeout = 1").ok()
    kernel.run("%%mcp_tool\ndef boom() -> int:\n    raise ValueError('no good')\n").ok()
    kernel.run(SLOW).ok()
    _, url = start(kernel)
    failed = call(url, "boom")
    assert failed["isError"] is True and "ValueError: no good" in text_of(failed)
    late = call(url, "slow", {"seconds": 4})
    assert late["isError"] is True and "timed out after 1 s" in text_of(late)
    # the answer did not wait for the tool: 3 s of its sleep are still to go, and the kernel answers
    assert kernel.run("SLOW_ENDED", timeout=10).ok().text == "[]"
    assert kernel.run("1 + 1", timeout=10).ok().text == "2"
    assert call(url, "slow", {"seconds": 0})["content"][0]["text"] == "done"
    kernel.run("%config NbmcpMagics.tool_timeout = 30").ok()
    assert "tool timeout  30 s" in kernel.run("%mcp status").ok().text


def test_rerunning_start_or_the_tool_cell_while_serving_never_hangs(kernel: Kernel) -> None:
    kernel.run(ADD).ok()
    port, url = start(kernel)
    for _ in range(3):
        again = kernel.run(f"%mcp start --port {port}", timeout=10).ok()
        assert "already serving" in again.stdout
        kernel.run(ADD, timeout=10).ok()
        assert "already serving" in kernel.run("%mcp start", timeout=10).ok().stdout
    assert call(url, "add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    other = free_port()
    moved = kernel.run(f"%mcp start --port {other}", timeout=10).ok()
    assert f":{other}/mcp" in moved.stdout
    assert port_is_free(port)
    assert call(f"http://127.0.0.1:{other}/mcp", "add", {"a": 1, "b": 1})["structuredContent"] == {
        "result": 2
    }


def test_main_thread_tools_run_on_the_kernel_thread_between_cells(kernel: Kernel) -> None:
    kernel.run(
        "%%mcp_tool --main-thread\nimport threading\ndef where() -> str:\n"
        "    print('on the main thread')\n    return threading.current_thread().name\n"
    ).ok()
    kernel.run(
        "%%mcp_tool\nimport threading\ndef elsewhere() -> str:\n    return threading.current_thread().name\n"
    ).ok()
    _, url = start(kernel)
    assert text_of(call(url, "where")) == "MainThread"
    assert text_of(call(url, "elsewhere")).startswith("nbmcp-tool")
    assert "main thread" in kernel.run("%mcp tools").ok().text
    # while a cell runs, a main-thread call waits for it, and only for it
    running = kernel.submit(
        "import time\nprint('cell starts', flush=True)\ntime.sleep(2)\nprint('cell ends', flush=True)"
    )
    started = kernel.wait_for_output(running, "cell starts")
    answers: list[tuple[Any, str]] = []

    def call_where() -> None:
        name = text_of(call(url, "where"))
        answers.append((now(), name))

    caller = threading.Thread(target=call_where)
    caller.start()
    reply = kernel.collect(running, timeout=30)
    caller.join(30)
    assert answers and answers[0][1] == "MainThread"
    # answered after the cell ended (it waited for it), with no other cell run (only for it)
    assert started < reply.output_at("cell ends") < answers[0][0], (started, answers)
    assert reply.stdout == "cell starts\ncell ends\n" and reply.stderr == ""  # its print went to the record
    # %mcp call from the kernel itself reaches it too (no deadlock)
    shown = kernel.run("%mcp call where", timeout=20).ok()
    assert "MainThread" in shown.text and "on the main thread" in shown.text
    # an async main-thread tool runs on the kernel's own event loop
    kernel.run(
        "%%mcp_tool --main-thread\nimport asyncio\nasync def loop_name() -> bool:\n"
        "    return asyncio.get_running_loop() is get_ipython().kernel.io_loop.asyncio_loop\n"
    ).ok()
    assert call(url, "loop_name")["structuredContent"] == {"result": True}


def test_mcp_call_goes_through_the_client_path(kernel: Kernel) -> None:
    kernel.run(PRINTING_ADD).ok()
    shown = kernel.run('%mcp call add \'{"a": 1, "b": 2}\'').ok()
    assert '"result": 3' in shown.text and "adding 1 2" in shown.text
    assert shown.stdout == ""  # the print is in the result's "printed" part, not the cell's stdout
    kv = kernel.run("r = %mcp call add a=20 b=22\nr.structured").ok()
    assert kv.text == "{'result': 42}"
    bad = kernel.run('%mcp call add \'{"a": "x"}\'').ok()
    assert "error" in bad.text and "Invalid arguments" in bad.text
    rows = table(kernel.run("%mcp tools").ok().text)
    assert [(r["tool"], r["calls"], r["errors"]) for r in rows] == [("add", "3", "1")]  # served or not
    _, url = start(kernel)
    assert "adding 5 6" in kernel.run("%mcp call add a=5 b=6").ok().text
    assert call(url, "add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}


def test_renaming_the_function_in_a_cell_replaces_its_old_tool(kernel: Kernel) -> None:
    cell = {"cellId": "cell-7"}
    kernel.run("%%mcp_tool\ndef old_name() -> int:\n    return 1\n", metadata=cell).ok()
    _, url = start(kernel)
    assert tool_names(url) == {"old_name"}
    shown = kernel.run("%%mcp_tool\ndef new_name() -> int:\n    return 2\n", metadata=cell).ok()
    assert "'old_name' removed" in shown.stdout
    assert tool_names(url) == {"new_name"}
    kernel.run(
        "%%mcp_tool --name custom\ndef other() -> int:\n    return 3\n", metadata={"cellId": "cell-8"}
    ).ok()
    assert tool_names(url) == {"new_name", "custom"}
    kernel.run("%mcp remove custom").ok()
    assert tool_names(url) == {"new_name"}


def test_configuration_api_key_and_current_server(kernel: Kernel) -> None:
    port = free_port()
    kernel.run(f"%config NbmcpMagics.port = {port}\n%config NbmcpMagics.name = 'sales'").ok()
    kernel.run(PLAIN_DECORATOR).ok()
    kernel.run("%mcp start --api-key s3cret").ok()
    url = f"http://127.0.0.1:{port}/mcp"
    denied = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert denied.status_code == 401
    listed = rpc(url, "tools/list", **{"X-API-Key": "s3cret"})
    assert [t["name"] for t in listed["tools"]] == ["plain"]
    init = rpc(
        url,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        **{"X-API-Key": "s3cret"},
    )
    assert init["serverInfo"]["name"] == "sales"
    same = kernel.run(
        "nbmcp.current_server() is server is get_ipython().find_magic('mcp').__self__.server"
    ).ok()
    assert same.text == "True"
    # serving froze the heap out of full GC passes (no 100 ms pauses under load); it can be turned off
    assert int(kernel.run("import gc\ngc.get_freeze_count()").ok().text) > 1000
    kernel.run("gc.unfreeze()\n%config NbmcpMagics.freeze_gc = False\n%mcp stop\n%mcp start").ok()
    assert kernel.run("gc.get_freeze_count()").ok().text == "0"


def test_reload_ext_stops_the_server_and_leaves_no_thread(kernel: Kernel) -> None:
    kernel.run(ADD).ok()
    port, url = start(kernel)
    kernel.run("%reload_ext nbmcp").ok()
    assert port_is_free(port)
    threads = kernel.run(  # a bounded wait for the threads to end, not a guessed pause
        "import threading, time\n"
        "def serving():\n"
        "    return sorted(t.name for t in threading.enumerate() if t.name.startswith('nbmcp-server'))\n"
        "deadline = time.monotonic() + 10\n"
        "while serving() and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "serving()"
    ).ok()
    assert threads.text == "[]"
    kernel.run(f"%mcp start --port {port}").ok()  # the tools survived the reload
    assert call(url, "add", {"a": 3, "b": 4})["structuredContent"] == {"result": 7}
    kernel.run("%unload_ext nbmcp").ok()
    assert port_is_free(port)
    gone = kernel.run("%mcp status")
    assert "Line magic function `%mcp` not found" in gone.stderr
