"""``nbmcp`` on the command line, run as a real process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nbmcp import __version__
from nbmcp.cli import load_target
from nbmcp.errors import TargetError
from tests.peers.tools import ROOT, free_port

NBMCP = [sys.executable, "-m", "nbmcp.cli"]


def test_version() -> None:
    out = subprocess.run([*NBMCP, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"nbmcp {__version__}"


def _wait_health(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("server did not come up")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_the_url_and_stops_cleanly(sig: signal.Signals) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*NBMCP, "serve", "examples/weather.py", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_health(port, proc)
        body = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "get_weather", "arguments": {"city": "Tokyo"}},
        }
        answer = httpx.post(f"http://127.0.0.1:{port}/mcp", json=body, timeout=5).json()
        assert answer["result"]["structuredContent"] == {
            "city": "Tokyo",
            "temperature": 18.5,
            "unit": "celsius",
        }
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert f"at http://127.0.0.1:{port}/mcp" in out and "3 tools" in out
    assert out.rstrip().endswith("nbmcp: stopped")


def test_serve_port_in_use_is_one_clear_line() -> None:
    port = free_port()
    first = subprocess.Popen(
        [*NBMCP, "serve", "examples/weather.py", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_health(port, first)
        second = subprocess.run(
            [*NBMCP, "serve", "examples/weather.py", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        first.terminate()
        first.wait(15)
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"nbmcp: error: port {port} on 127.0.0.1 is already in use; stop what holds it or pick another port"
    )


def _write(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(code)
    return path


def test_target_forms(tmp_path: Path) -> None:
    one = _write(tmp_path, "one.py", "from nbmcp import MCPServer\nsrv = MCPServer('one')\n")
    two = _write(tmp_path, "two.py", "from nbmcp import MCPServer\na = MCPServer('a')\nb = MCPServer('b')\n")
    none = _write(tmp_path, "none.py", "x = 1\n")
    broken = _write(tmp_path, "broken.py", "raise ValueError('nope')\n")
    assert load_target(str(one)).name == "one"
    assert load_target(f"{two}:b").name == "b"
    with pytest.raises(TargetError, match="several servers"):
        load_target(str(two))
    with pytest.raises(TargetError, match="no module-level MCPServer"):
        load_target(str(none))
    with pytest.raises(TargetError, match="no MCPServer named 'c'"):
        load_target(f"{two}:c")
    with pytest.raises(TargetError, match="ValueError: nope"):
        load_target(str(broken))
    with pytest.raises(TargetError, match="no such file"):
        load_target(str(tmp_path / "missing.py"))


def test_serve_without_a_target_shows_usage() -> None:
    out = subprocess.run([*NBMCP, "serve"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "TARGET" in out.stderr


@pytest.mark.parametrize("target", ["examples/weather.py", "notebooks/quickstart.ipynb"])
def test_one_sigint_the_moment_it_answers_stops_it_even_as_a_background_job(target: str) -> None:
    """A background job of a non-interactive shell inherits SIGINT ignored; the first one still stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [*NBMCP, "serve", target, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        _wait_health(port, proc)
        proc.send_signal(signal.SIGINT)  # at once: the banner may still be printing
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert out.rstrip().endswith("nbmcp: stopped")
