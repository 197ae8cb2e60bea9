"""A tunnel left open dies with its Python process (a kernel shut down, ``nbmcp serve`` stopped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.tunnel.kit import TunnelKit, records, wait_for

ROOT = Path(__file__).resolve().parents[2]
LEAVE_OPEN = """
import sys
from nbmcp.tunnel import open_tunnel
tunnel = open_tunnel(8, sys.argv[1])  # nothing listens on 8: the agent still starts
print(tunnel.public_url, flush=True)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("provider", ["ngrok", "cloudflared"])
def test_an_unclosed_tunnel_is_closed_at_exit(
    provider: str, tunnel_kit: TunnelKit, records_dir: Path
) -> None:
    env = {**os.environ, **(tunnel_kit.ngrok_env() if provider == "ngrok" else tunnel_kit.cloudflared_env())}
    proc = subprocess.run(
        [sys.executable, "-c", LEAVE_OPEN, provider],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("https://")
    (record,) = records(records_dir, provider)
    wait_for(lambda: _gone(int(record["pid"])))


def test_a_cloudflared_config_file_is_named_when_the_tunnel_fails(
    cloudflared_env: TunnelKit, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nbmcp.errors import TunnelError
    from nbmcp.tunnel import open_tunnel

    (tmp_path / ".cloudflared").mkdir()
    (tmp_path / ".cloudflared" / "config.yml").write_text("tunnel: 0000\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NBMCP_FAKE_MODE", "fail")
    with pytest.raises(TunnelError, match=r"move it aside\)$") as caught:
        open_tunnel(8, "cloudflared")
    assert str(tmp_path / ".cloudflared" / "config.yml") in str(caught.value)
