"""The notebook package's parts on their own: parsing, the main-thread executor, the routing stream."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbmcp.errors import TargetError
from nbmcp.monitor.output import capture
from nbmcp.notebook.capture import SERVER_LOG, RoutingStream
from nbmcp.notebook.mainthread import MainThreadExecutor
from nbmcp.notebook.parsing import call_arguments, mcp_help, mcp_parser, split
from nbmcp.notebook.serve import read_code_cells
from nbmcp.notebook.toolcell import last_function_name


def test_the_last_top_level_function_is_the_tool() -> None:
    source = "def helper():\n    pass\n\nasync def tool():\n    def inner():\n        pass\n\nx = 1\n"
    assert last_function_name(source) == "tool"
    assert last_function_name("x = 1\nif x:\n    def hidden():\n        pass\n") is None
    assert last_function_name("@decorator\ndef decorated():\n    pass\n") == "decorated"
    with pytest.raises(SyntaxError):
        last_function_name("def broken(:\n")


def test_call_arguments_take_json_or_key_value_pairs() -> None:
    assert call_arguments(['{"a": 1, "b": "x y"}']) == {"a": 1, "b": "x y"}
    assert call_arguments(["a=1", "b=x", "c=[1,2]", 'd="7"']) == {"a": 1, "b": "x", "c": [1, 2], "d": "7"}
    assert call_arguments([]) == {}
    for bad in (["{nope"], ["[1]"], ["loose"], ['{"a": 1}', "x"]):
        with pytest.raises(UsageError):
            call_arguments(bad)
    assert split("call add '{\"a\": 1}'", "%mcp") == ["call", "add", '{"a": 1}']
    with pytest.raises(UsageError, match="check the quotes"):
        split("call 'open", "%mcp")


def test_help_names_every_subcommand_and_flag() -> None:
    text = mcp_help(mcp_parser())
    for word in ("start", "stop", "status", "tools", "call", "remove", "--host", "--port", "--api-key"):
        assert word in text
    for reserved in ("publish", "monitor", "connect"):
        assert f"%mcp {reserved}" in text
    assert "--envelope" in text and "--openapi" in text
    with pytest.raises(UsageError, match=r"^%mcp start: argument --port"):
        mcp_parser().parse_args(["start", "--port", "x"])


def test_the_main_thread_executor_runs_jobs_on_its_home_loop_in_order() -> None:
    loop = asyncio.new_event_loop()
    executor = MainThreadExecutor(loop)
    seen: list[tuple[int, str]] = []
    futures = [
        executor.submit(lambda i=i: seen.append((i, threading.current_thread().name)) or i) for i in range(3)
    ]
    assert not any(f.done() for f in futures)  # the home loop has not run yet
    loop.run_until_complete(asyncio.sleep(0.01))
    assert [f.result() for f in futures] == [0, 1, 2]
    assert seen == [(i, threading.current_thread().name) for i in range(3)]

    def fail() -> None:
        raise KeyboardInterrupt

    failing = executor.submit(fail)
    loop.run_until_complete(asyncio.sleep(0.01))
    assert isinstance(failing.exception(), RuntimeError)  # an interrupt fails the call, not the loop
    cancelled = executor.submit(lambda: 1)
    cancelled.cancel()
    loop.run_until_complete(asyncio.sleep(0.01))
    executor.shutdown()
    loop.close()


def test_the_main_thread_executor_without_a_home_uses_a_thread_of_its_own() -> None:
    executor = MainThreadExecutor()
    assert executor.submit(lambda: threading.current_thread().name).result(5) == "nbmcp-main"

    async def coro() -> str:
        return threading.current_thread().name

    assert executor.run_coroutine(coro()).result(5) == "nbmcp-main"
    executor.shutdown()


def test_waiting_while_pumping_runs_jobs_queued_for_this_thread() -> None:
    loop = asyncio.new_event_loop()  # never run: only the pump can run the job
    executor = MainThreadExecutor(loop)
    outer: list[object] = []

    def client() -> None:  # another thread asks for a main-thread job and waits for it
        outer.append(executor.submit(lambda: threading.current_thread().name).result(5))

    from concurrent.futures import Future

    done: Future[None] = Future()
    worker = threading.Thread(target=lambda: (client(), done.set_result(None)))
    worker.start()
    executor.wait_pumping(done, timeout=5)
    worker.join(5)
    assert outer == [threading.current_thread().name]
    loop.close()


def test_the_routing_stream_sends_each_write_where_it_belongs() -> None:
    under = io.StringIO()
    stream = RoutingStream(under, "stdout")  # type: ignore[arg-type]
    stream.write("cell text\n")
    with capture() as record:
        stream.write("tool text\n")
    other = threading.Thread(target=lambda: stream.write("server noise\n"), name="nbmcp-server:1")
    other.start()
    other.join()
    assert under.getvalue() == "cell text\n"
    assert record.getvalue() == "tool text\n"
    assert SERVER_LOG[-1] == "server noise"
    assert stream.encoding == under.encoding  # everything else is the wrapped stream's


def test_read_code_cells(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[new_markdown_cell("x"), new_code_cell("a = 1", metadata={"tags": ["t"]}), new_code_cell("")]
    )
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    cells = read_code_cells(path)
    assert [(c.number, c.source, c.tags) for c in cells] == [(2, "a = 1", ["t"]), (3, "", [])]
    (tmp_path / "x.ipynb").write_text('{"nbformat": 4}')
    with pytest.raises(TargetError, match="no 'cells' list"):
        read_code_cells(tmp_path / "x.ipynb")


def test_the_default_port_hops_when_taken_but_a_chosen_port_does_not() -> None:
    import socket

    from nbmcp import MCPServer
    from nbmcp.notebook.commands import _start_on

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = MCPServer("hop")
        try:
            url, note = _start_on(server, "127.0.0.1", port, hop=True)
            assert server.port != port and f":{server.port}/mcp" in url
            assert f"port {port} is taken" in note
        finally:
            server.stop()
        with pytest.raises(UsageError, match="already in use"):
            _start_on(server, "127.0.0.1", port, hop=False)
