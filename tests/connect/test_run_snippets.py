"""The shell snippets run for real against live servers: curl (/usr/bin/curl) and the MCP Inspector CLI.

Each runs through ``bash -c`` exactly as ``nbmcp connect --client NAME`` prints it, with the
key in ``NBMCP_API_KEY`` of the shell's environment only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.connect.kit import AUTHS, connect, mcp_messages
from tests.connect.test_cli import KEY, Live, _start, tide
from tests.peers.test_inspector import INSPECTOR, MODULES, NODE22, first_json, require_inspector

pytestmark = pytest.mark.timeout(120)

SESSION_LINE = '\necho "SID=[$SID]"'


def _bash(script: str, key: str | None, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NBMCP_API_KEY"}
    env.update(NO_PROXY="127.0.0.1,localhost", **extra)
    if key is not None:
        env["NBMCP_API_KEY"] = key
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )


def _curl_snippet(live: Live) -> str:
    done = connect(live.url, "--client", "curl", key=live.key)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("auth", AUTHS)
def test_the_curl_snippet_lists_the_tools_on_its_session(auth: str) -> None:
    server, live = _start(auth)
    try:
        snippet = _curl_snippet(live)
        # "oauth": curl sends whatever is in NBMCP_API_KEY as a bearer: an access token, or the owner key
        ran = _bash(snippet + SESSION_LINE, live.secret)
        assert ran.returncode == 0, ran.stderr
        assert ran.stderr == ""
        body, _, session = ran.stdout.rpartition("SID=[")
        assert len(session.strip().rstrip("]")) >= 16  # initialize opened a session; the rest used it
        (answer,) = mcp_messages(body)
        assert answer["id"] == 2
        assert [tool["name"] for tool in answer["result"]["tools"]] == ["high_water"]
    finally:
        server.stop()


def test_the_curl_snippet_without_the_key_is_refused() -> None:
    server, live = _start("key")
    try:
        ran = _bash(_curl_snippet(live), None)
        (answer,) = mcp_messages(ran.stdout)
        assert answer["error"]["message"].lower().startswith("unauthorized")
    finally:
        server.stop()


def test_the_curl_snippet_works_on_a_stateless_server() -> None:
    server = tide(api_key=KEY, stateless=True)
    url = server.start(port=0)
    try:
        done = connect(url, "--client", "curl", key=KEY)
        ran = _bash(done.stdout + SESSION_LINE, KEY)
        assert ran.returncode == 0, ran.stderr
        body, _, session = ran.stdout.rpartition("SID=[")
        assert session.strip() == "]"  # no session: the header goes out empty and is ignored
        (answer,) = mcp_messages(body)
        assert [tool["name"] for tool in answer["result"]["tools"]] == ["high_water"]
    finally:
        server.stop()


@pytest.mark.peers
def test_the_inspector_snippet_lists_the_tools(tmp_path: Path) -> None:
    """``npx @modelcontextprotocol/inspector ...`` with ``npx`` standing for the installed package."""
    require_inspector()
    shim = tmp_path / "bin" / "npx"
    shim.parent.mkdir()
    shim.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "@modelcontextprotocol/inspector" ] || exit 97\n'
        f'shift\nexec "{NODE22}" "{INSPECTOR}" "$@"\n'
    )
    shim.chmod(0o755)
    server, live = _start("key")
    try:
        done = connect(live.url, "--client", "inspector", key=KEY)
        assert done.returncode == 0, done.stderr
        home = tmp_path / "home"
        home.mkdir()
        path = f"{shim.parent}{os.pathsep}{MODULES / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        ran = _bash(done.stdout, KEY, PATH=path, HOME=str(home), MCP_CATALOG_PATH=str(home / "mcp.json"))
        assert ran.returncode == 0, f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
        assert [tool["name"] for tool in first_json(ran.stdout)["tools"]] == ["high_water"]
        refused = _bash(done.stdout, "not-the-key", PATH=path, HOME=str(home))
        assert refused.returncode != 0
    finally:
        server.stop()
