"""``%mcp publish`` in a real kernel, through the agents' doubles; nothing left running afterwards.

The kernel gets the doubles' environment (token, agent path, ``SSL_CERT_FILE`` for the test
CA) the way a user's Jupyter would get a token and a binary; the official client calls the
tools through the public URL, and every way a kernel can end closes the tunnel.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.notebook.kernelkit import Kernel
from tests.tunnel.kit import TunnelKit, kill, records, wait_for
from tests.tunnel.test_publish import _call_add, _run

pytestmark = [pytest.mark.timeout(240)]

_URL = re.compile(r"published '[^']+' through (\w+) at (https://\S+/mcp)")
_FACT = re.compile(r"^(\S(?:.*?\S)?)\s{2,}(.*)$")
_TOOL = "%%mcp_tool\ndef add(a: int, b: int) -> int:\n    'Add two integers.'\n    return a + b\n"


def _dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it serves nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.fixture
def kernel(tunnel_kit: TunnelKit, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    for name, value in {**tunnel_kit.ngrok_env(), **tunnel_kit.cloudflared_env()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")
    k = Kernel()
    try:
        k.run("%load_ext nbmcp").ok()
        k.run(_TOOL).ok()
        yield k
    finally:
        k.shutdown()


def _publish(kernel: Kernel, flags: str = "") -> tuple[str, str]:
    shown = kernel.run(f"%mcp publish {flags}".strip()).ok()
    found = _URL.search(shown.stdout)
    assert found is not None, shown.stdout + shown.stderr
    return found.group(1), found.group(2)


def _agent_pids(folder: Path) -> list[int]:
    return [int(str(r["pid"])) for r in records(folder, "ngrok") + records(folder, "cloudflared")]


def _facts(kernel: Kernel) -> dict[str, str]:
    text = kernel.run("%mcp status").ok().text
    facts = {}
    for line in text.split("\n\n", 1)[0].splitlines():  # the facts, before the server log
        found = _FACT.match(line)
        assert found is not None, line
        facts[found.group(1)] = found.group(2)
    return facts


def test_publish_in_a_kernel_serves_through_the_tunnel_and_reports_its_health(
    kernel: Kernel, tunnel_kit: TunnelKit, records_dir: Path
) -> None:
    provider, url = _publish(kernel)
    assert provider == "ngrok", "a token is configured: ngrok is the default"
    shown = kernel.run("%mcp publish").ok()
    assert url in shown.stdout, "publishing again prints the same URL"
    key = kernel.run("import nbmcp; print(nbmcp.current_server().access_key)").ok().stdout.strip()
    assert len(key) >= 24
    assert _run(lambda: _call_add(url, tunnel_kit, headers={"X-API-Key": key})) == 42
    with httpx.Client(verify=tunnel_kit.ssl_context(), trust_env=False, timeout=15) as http:
        bare = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert bare.status_code == 401 and "resource_metadata=" in bare.headers["www-authenticate"]
    facts = _facts(kernel)
    assert facts["public url"] == url and facts["provider"] == "ngrok" and facts["tunnel"] == "up"
    assert facts["auth"] == "OAuth (built-in)"

    (pid,) = _agent_pids(records_dir)
    kill(pid)
    wait_for(lambda: _facts(kernel)["tunnel"].startswith("down"))
    tunnel_line = _facts(kernel)["tunnel"]
    assert "local server still serves" in tunnel_line and "\n" not in tunnel_line
    quiet = kernel.run("1 + 1").ok()
    assert (quiet.stdout, quiet.stderr, quiet.text) == ("", "", "2"), (
        "a dead tunnel never shows in other cells"
    )

    again_provider, again = _publish(kernel)
    assert again_provider == "ngrok"
    assert _run(lambda: _call_add(again, tunnel_kit, headers={"X-API-Key": key})) == 42
    unpublished = kernel.run("%mcp unpublish").ok()
    assert unpublished.stdout.startswith("nbmcp: unpublished https://")
    wait_for(lambda: all(_dead(p) for p in _agent_pids(records_dir)))
    assert _facts(kernel)["public url"].startswith("not published")


def test_every_way_a_kernel_ends_closes_the_tunnel(kernel: Kernel, records_dir: Path) -> None:
    _publish(kernel, "--provider cloudflared")
    (first,) = _agent_pids(records_dir)
    kernel.run("%unload_ext nbmcp").ok()
    wait_for(lambda: _dead(first))

    kernel.run("%load_ext nbmcp").ok()
    _publish(kernel, "--provider cloudflared")
    (second,) = set(_agent_pids(records_dir)) - {first}
    kernel.restart()  # a graceful restart: shutdown_request, then a new kernel
    wait_for(lambda: _dead(second), timeout=30)

    kernel.run("%load_ext nbmcp").ok()
    kernel.run(_TOOL).ok()
    _publish(kernel, "--provider cloudflared")
    (third,) = set(_agent_pids(records_dir)) - {first, second}
    kernel.km.restart_kernel(now=True)  # killed at once (SIGKILL to its process group)
    kernel.kc.wait_for_ready(timeout=60)
    wait_for(lambda: _dead(third), timeout=30)
    assert all(_dead(p) for p in _agent_pids(records_dir)), os.listdir(records_dir)


def test_missing_provider_is_one_usage_line(tunnel_kit: TunnelKit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")
    k = Kernel()  # no token, no binary: the autouse fixture took them away
    try:
        k.run("%load_ext nbmcp").ok()
        shown = k.run("%mcp publish")
        lines = shown.stderr.strip().splitlines()
        assert len(lines) == 2 and lines[0].startswith("UsageError: %mcp publish: "), shown.stderr
        assert "NGROK_AUTHTOKEN" in lines[0] + lines[1] and "cloudflared" in lines[0] + lines[1]
        status = k.run("%mcp status").ok().text
        assert "serving at http://127.0.0.1:" in status, "publish started the server, which keeps serving"
    finally:
        k.shutdown()
