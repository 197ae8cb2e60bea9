"""Shared fixtures: a clean environment and real servers on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import settings

from nbmcp import MCPServer

# A red CI run must replay: under CI the examples are derived from each test's name, not drawn at
# random (``derandomize``), and a failure prints its ``@reproduce_failure`` blob. Registered here
# rather than left to Hypothesis's own CI detection, which older versions (pyproject allows 6.100)
# lack. Re-registering "ci" also replaces the built-in one if Hypothesis already loaded it.
settings.register_profile("ci", settings.get_profile("default"), derandomize=True, print_blob=True)


def hypothesis_profile(environ: Mapping[str, str]) -> str | None:
    """The profile to load for this environment (``None``: leave Hypothesis's choice)."""
    return "ci" if environ.get("CI") else None


_profile = hypothesis_profile(os.environ)
if _profile is not None:
    settings.load_profile(_profile)

_ENV_STRIP = (
    "NBMCP_API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or key from the developer's shell leaks into a test."""
    for name in _ENV_STRIP:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``XDG_CONFIG_HOME`` in a temporary directory and no ``NBMCP_OAUTH_STORE``: the built-in
    OAuth store lands in ``<it>/nbmcp``. Autouse in tests/oauth and tests/connect (their conftests)."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("NBMCP_OAUTH_STORE", raising=False)
    return home


@pytest.fixture
def serve() -> Iterator[object]:
    """Start servers on free ports and stop every one at the end: ``url = serve(server)``."""
    started: list[MCPServer] = []

    def _serve(server: MCPServer, **kwargs: object) -> str:
        url = server.start(**kwargs)  # type: ignore[arg-type]
        started.append(server)
        return url

    yield _serve
    for server in started:
        server.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return f"nbmcp tests: CI={os.environ.get('CI', '')}"
