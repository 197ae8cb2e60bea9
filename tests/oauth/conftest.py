"""Every OAuth test keeps its authorization server's files in its own config directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``XDG_CONFIG_HOME`` in a temporary directory (the store lands in ``<it>/nbmcp``)."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("NBMCP_OAUTH_STORE", raising=False)
    return home
