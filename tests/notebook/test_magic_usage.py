"""Mistakes get one clear line (IPython's UsageError), and every command and flag has help."""

from __future__ import annotations

import pytest

from tests.notebook.kernelkit import Kernel

pytestmark = pytest.mark.timeout(120)

MISTAKES = {
    "%mcp strat": "%mcp: argument COMMAND: invalid choice: 'strat'",
    "%mcp start --port abc": "%mcp start: argument --port: invalid int value: 'abc'",
    "%mcp start --bogus": "%mcp: unrecognized arguments: --bogus",
    "%mcp call": "%mcp call: the following arguments are required: NAME",
    "%mcp call nope": "%mcp call: no tool named 'nope'",
    "%mcp call add '{\"a\": 1'": "%mcp call: the arguments are not valid JSON",
    "%mcp call add a": "%mcp call: 'a' is neither a JSON object nor key=value",
    "%mcp call add 'oops": "%mcp: No closing quotation (check the quotes)",
    "%mcp remove ghost": "%mcp remove: no tool named 'ghost'",
    "%mcp help ghost": "%mcp help: no command 'ghost'",
    "%%mcp_tool\nx = 1\n": "%%mcp_tool: the cell defines no function",
    "%%mcp_tool --bogus\ndef f() -> int:\n    return 1\n": "%%mcp_tool: unrecognized arguments: --bogus",
    "%%mcp_tool --read-only --destructive\ndef f() -> int:\n    return 1\n": "contradict each other",
    "%%mcp_tool\ndef f(*args) -> int:\n    return 1\n": "%%mcp_tool: tool 'f': parameter *args",
    "%%mcp_tool\ndef f(_x: int) -> int:\n    return 1\n": "starts with '_'",
    "%%mcp_tool --name 'has space'\ndef f() -> int:\n    return 1\n": "tool name 'has space' is not valid",
    "%%mcp_tool --main-thread\nasync def f():\n    yield 1\n": "--main-thread does not take async generators",
    "%%mcp_tool --header region\ndef f(region: str) -> str:\n    return region\n": "must be PARAM=Name",
    "%%mcp_tool --header nope=Nope\ndef f(region: str) -> str:\n    return region\n": "'nope'",
    "%%mcp_tool --header n=N\ndef f(n: float) -> float:\n    return n\n": "%%mcp_tool: ",
}


def test_each_mistake_is_one_usage_line(kernel: Kernel) -> None:
    kernel.run("%%mcp_tool\ndef add(a: int, b: int) -> int:\n    return a + b\n").ok()
    for code, expected in MISTAKES.items():
        reply = kernel.run(code)
        assert reply.error is None, (code, reply.evalue)
        lines = reply.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("UsageError: "), (code, reply.stderr)
        assert expected in lines[0], (code, lines[0])
    # the tool is still served as it was
    assert '"result": 3' in kernel.run("%mcp call add a=1 b=2").ok().text


def test_a_bad_cell_body_shows_its_own_error_once(kernel: Kernel) -> None:
    broken = kernel.run("%%mcp_tool\ndef f(:\n    pass\n")
    assert broken.ename == "SyntaxError" or "SyntaxError" in broken.stderr
    assert "During handling" not in "".join((broken.error or {}).get("traceback", [])) + broken.stderr
    failing = kernel.run("%%mcp_tool\nraise ValueError('setup failed')\ndef g() -> int:\n    return 1\n")
    assert "ValueError" in failing.ename + failing.stdout + failing.stderr + str(failing.error)
    assert "'g'" not in kernel.run("%mcp tools").ok().text  # not registered


def test_every_subcommand_has_its_help(kernel: Kernel) -> None:
    for command in ("publish", "unpublish", "connect", "monitor", "stats"):
        shown = kernel.run(f"%mcp help {command}").ok().stdout
        usage = shown.split("\n\n")[1].strip()  # IPython's "::" header, then the usage line
        assert usage.startswith(f"%mcp {command}"), shown


def test_schema_shows_the_checked_action_schema(kernel: Kernel) -> None:
    kernel.run(
        "%%mcp_tool --read-only\ndef add(a: int, b: int) -> int:\n    'Add two numbers.'\n    return a + b\n"
    ).ok()
    shown = kernel.run("%mcp schema --url https://example.test").ok()
    html = shown.results[-1]["text/html"]
    assert "Copy" in html and "download" in html.lower() and "https://example.test" in html
    assert '"operationId": "add"' in html or "operationId" in html
    report = kernel.run(
        "r = %mcp schema --openapi 3.0 --envelope\nr.document['openapi'], len(r.document['paths'])"
    )
    assert report.ok().text.startswith("('3.0")
    bad = kernel.run("%mcp schema --openapi 2.0")
    assert bad.stderr.strip().splitlines() == [
        "UsageError: %mcp schema: argument --openapi: invalid choice: '2.0' (choose from '3.1', '3.1.0', '3.0')"
    ]


def test_help_covers_every_command_and_flag(kernel: Kernel) -> None:
    mcp_help = kernel.run("%mcp?").ok().page
    for word in ("start", "stop", "status", "tools", "call", "remove", "--host", "--port", "--api-key"):
        assert word in mcp_help, word
    for word in ("publish", "monitor", "schema", "connect", "NbmcpMagics.port"):
        assert word in mcp_help, word
    tool_help = kernel.run("%%mcp_tool?").ok().page
    for flag in (
        "--name",
        "--title",
        "--description",
        "--read-only",
        "--destructive",
        "--header",
        "--main-thread",
    ):
        assert flag in tool_help, flag
    one = kernel.run("%mcp start --help").ok().stdout
    assert "--port PORT" in one and "--api-key" in one
    assert "call NAME" in kernel.run("%mcp help call").ok().stdout
    config = kernel.run("%config NbmcpMagics").ok().stdout
    for trait in ("name", "host", "port", "api_key", "tool_timeout", "freeze_gc"):
        assert f"NbmcpMagics.{trait}=" in config


def test_header_flag_mirrors_a_parameter(kernel: Kernel) -> None:
    """``%%mcp_tool --header region=Region`` is ``@server.tool(headers={"region": "Region"})``."""
    kernel.run(
        "%%mcp_tool --header region=Region --header limit=Limit\n"
        "def sales(region: str, limit: int = 10) -> str:\n    'Sales of a region.'\n    return region\n"
    ).ok()
    shown = kernel.run(
        "import nbmcp\n"
        "props = nbmcp.current_server().tools['sales'].definition('2026-07-28')['inputSchema']['properties']\n"
        "print(props['region']['x-mcp-header'], props['limit']['x-mcp-header'])"
    ).ok()
    assert shown.stdout.split() == ["Region", "Limit"]
    assert "--header PARAM=Name" in kernel.run("%%mcp_tool?").ok().page
