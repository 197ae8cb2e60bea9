"""Shared fixtures: a clean environment and real servers on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from nbmcp import MCPServer

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
