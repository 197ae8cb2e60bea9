"""Fixtures for the tunnel tests: no provider set up unless a test asks, the doubles, a server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbmcp import MCPServer
from nbmcp.config import DEFAULT_ALLOWED_HOSTS
from tests.tunnel.kit import PUBLIC_NAMES, TunnelKit, tunnel_kit
from tests.tunnel.upstream import Upstream, upstream

__all__ = ["tunnel_kit"]

_PROVIDER_ENV = (
    "NGROK_AUTHTOKEN",
    "NGROK_API_KEY",
    "NBMCP_NGROK_PATH",
    "PYNGROK_NGROK_PATH",
    "NBMCP_CLOUDFLARED_PATH",
    "NBMCP_FAKE_MODE",
    "NBMCP_FAKE_CLOUDFLARED_HOLD",
)


@pytest.fixture(autouse=True)
def no_provider_here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No token, no binary, no pyngrok config from the developer's machine; records in tmp_path."""
    for name in _PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in dirs if d and not Path(d, "cloudflared").exists()))
    monkeypatch.setattr("pyngrok.conf.DEFAULT_NGROK_CONFIG_PATH", str(tmp_path / "pyngrok" / "ngrok.yml"))
    records = tmp_path / "records"
    records.mkdir()
    monkeypatch.setenv("NBMCP_FAKE_RECORD_DIR", str(records))
    return records


@pytest.fixture
def records_dir(no_provider_here: Path) -> Path:
    return no_provider_here


@pytest.fixture
def ngrok_env(tunnel_kit: TunnelKit, monkeypatch: pytest.MonkeyPatch) -> TunnelKit:
    for name, value in tunnel_kit.ngrok_env().items():
        monkeypatch.setenv(name, value)
    return tunnel_kit


@pytest.fixture
def cloudflared_env(tunnel_kit: TunnelKit, monkeypatch: pytest.MonkeyPatch) -> TunnelKit:
    for name, value in tunnel_kit.cloudflared_env().items():
        monkeypatch.setenv(name, value)
    return tunnel_kit


@pytest.fixture
def provider_env(request: pytest.FixtureRequest, provider: str) -> TunnelKit:
    """``ngrok_env`` or ``cloudflared_env``, as the test's ``provider`` parameter names."""
    kit: TunnelKit = request.getfixturevalue(f"{provider}_env")
    return kit


@pytest.fixture
def server() -> Iterator[MCPServer]:
    """A running nbmcp server that accepts the doubles' public names as Host."""
    mcp = MCPServer(allowed_hosts=[*DEFAULT_ALLOWED_HOSTS, *PUBLIC_NAMES])
    mcp.start(port=0)
    yield mcp
    mcp.stop()


@pytest.fixture
def echo() -> Iterator[Upstream]:
    with upstream() as running:
        yield running
