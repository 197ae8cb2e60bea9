"""``nbmcp serve TARGET --publish``: the public URL printed, served through the tunnel, closed on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.tunnel.kit import TunnelKit, records, wait_for
from tests.tunnel.test_publish_kernel import _dead

pytestmark = [pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
_PUBLISHED = re.compile(r"^nbmcp: published at (https://\S+/mcp) through (\w+)$", re.MULTILINE)
_KEY = re.compile(r"owner key approves clients on their consent page: \u2022\u2022\u2022\u2022(\S{4}) ")


class _Output:
    """The server's output, read line by line on a thread (so the test can wait on a line)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.text += line

    def join(self) -> None:
        self._thread.join(15)


@pytest.mark.parametrize("provider", ["ngrok", "cloudflared"])
def test_serve_publish_prints_the_url_serves_through_it_and_closes_on_sigint(
    provider: str, tunnel_kit: TunnelKit, records_dir: Path
) -> None:
    env = {**os.environ, **tunnel_kit.ngrok_env(), **tunnel_kit.cloudflared_env()}
    env.update(NBMCP_OAUTH_STORE="memory", NBMCP_API_KEY="cli-owner-key-0123456789abcdef")
    command = [sys.executable, "-m", "nbmcp.cli", "serve", "examples/weather.py", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--publish", "--provider", provider],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = _Output(proc)
    try:
        wait_for(lambda: _PUBLISHED.search(output.text) is not None or proc.poll() is not None, timeout=60)
        found = _PUBLISHED.search(output.text)
        assert found is not None, output.text
        url, through = found.groups()
        assert through == provider
        key = _KEY.search(output.text)
        assert key is not None and key.group(1) == "cdef", "the owner key, masked in piped output"
        assert "cli-owner-key-0123456789abcdef" not in output.text
        body = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "get_weather", "arguments": {"city": "Tokyo"}},
        }
        with httpx.Client(verify=tunnel_kit.ssl_context(), trust_env=False, timeout=15) as http:
            assert http.post(url, json=body).status_code == 401
            answer = http.post(url, json=body, headers={"X-API-Key": "cli-owner-key-0123456789abcdef"})
        assert answer.json()["result"]["structuredContent"]["city"] == "Tokyo"
        (record,) = records(records_dir, provider)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        output.join()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        output.join()
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0, output.text
    wait_for(lambda: _dead(int(str(record["pid"]))), timeout=15)
    assert output.text.rstrip().endswith("nbmcp: stopped")
