"""Twenty open/close cycles of each provider leave no process, file descriptor, thread or file."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.tunnel import open_tunnel
from tests.tunnel.kit import TunnelKit, tunnel_children

CYCLES = 20


def _open_fds() -> dict[str, str]:
    """This process's open file descriptors and what each points at."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def _cycle(provider: str, port: int, kit: TunnelKit) -> None:
    tunnel = open_tunnel(port, provider)
    try:
        with httpx.Client(verify=kit.ssl_context()) as client:
            assert client.get(tunnel.public_url + "/health").status_code == 200
    finally:
        tunnel.close()


@pytest.mark.parametrize("provider", ["ngrok", "cloudflared"])
def test_cycles_leave_nothing_behind(provider: str, provider_env: TunnelKit, server: MCPServer) -> None:
    assert server.port is not None
    _cycle(provider, server.port, provider_env)  # warm-up: lazy imports, caches
    fds, threads = _open_fds(), threading.active_count()
    private = set(Path(tempfile.gettempdir()).glob("nbmcp-ngrok-*"))
    for _ in range(CYCLES):
        _cycle(provider, server.port, provider_env)
        assert tunnel_children() == []
    assert _open_fds() == fds
    assert threading.active_count() == threads
    left = set(Path(tempfile.gettempdir()).glob("nbmcp-ngrok-*")) - private
    assert left == set(), "no private agent folder of these cycles is left"  # others may come and go


PUBLISH_CYCLES = 50


def test_fifty_publish_unpublish_cycles_leave_nothing_behind(
    tunnel_kit: TunnelKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``server.publish()`` / ``unpublish()`` 50 times, both providers in turn, OAuth on each time."""
    for name, value in {**tunnel_kit.ngrok_env(), **tunnel_kit.cloudflared_env()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")
    server = MCPServer("cycles", api_key="cycle-owner-key-0123456789abcdef")
    server.start(port=0)
    try:
        hosts = list(server.config.allowed_hosts)
        ports: set[int] = set()

        def cycle(provider: str) -> None:
            url = server.publish(provider)
            ports.add(int(httpx.URL(url).port or 443))
            with httpx.Client(verify=tunnel_kit.ssl_context(), trust_env=False) as client:
                ping = client.post(
                    url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                    headers={"X-API-Key": "cycle-owner-key-0123456789abcdef"},
                )
                assert ping.status_code == 200
            server.unpublish()

        cycle("ngrok")  # warm-up
        cycle("cloudflared")
        fds, threads = _open_fds(), threading.active_count()
        for i in range(PUBLISH_CYCLES):
            cycle("ngrok" if i % 2 else "cloudflared")
            assert tunnel_children() == []
        assert _open_fds() == fds
        assert threading.active_count() == threads
        assert server.config.allowed_hosts == hosts and server.public_url is None
        assert server.token_verifier is None and server.tunnel is None
        for port in ports:  # no edge left listening
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"https://127.0.0.1:{port}/health", verify=False, timeout=2)
    finally:
        server.stop()
