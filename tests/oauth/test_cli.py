"""``nbmcp serve --oauth``: the built-in authorization server from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oauth.consentkit import base_of, call_tool, client, full_grant
from tests.peers.peerkit import cli_server

pytestmark = pytest.mark.timeout(120)

TARGET = """
from nbmcp import MCPServer

server = MCPServer("cli-oauth")


@server.tool
def add(a: int, b: int) -> int:
    return a + b
"""


def test_serve_oauth_issues_tokens_and_shows_the_key_masked(
    tmp_path: Path, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "app.py"
    target.write_text(TARGET)
    monkeypatch.setenv("NBMCP_API_KEY", "owner-key-from-the-environment")
    with cli_server(target, tmp_path, "--oauth") as served, client() as http:
        base = base_of(served.url)
        assert http.get(f"{base}/.well-known/oauth-authorization-server").json()["issuer"] == base
        grant = full_grant(http, "owner-key-from-the-environment", base)
        assert call_tool(http, base, grant.tokens["access_token"]).status_code == 200
        assert call_tool(http, base, None).status_code == 401
        out, _ = served.output()
        assert "OAuth on" in out and "\u2022\u2022\u2022\u2022ment" in out
        assert "owner-key-from-the-environment" not in out
    assert list((config_home / "nbmcp").glob("oauth-cli-oauth-*.json"))  # kept under XDG_CONFIG_HOME


def test_serve_oauth_and_an_outside_issuer_exclude_each_other(tmp_path: Path) -> None:
    import subprocess

    from tests.peers.peerkit import nbmcp_command

    target = tmp_path / "app.py"
    target.write_text(TARGET)
    done = subprocess.run(
        [
            *nbmcp_command(),
            "serve",
            str(target),
            "--oauth",
            "--oauth-issuer",
            "https://a.example/",
            "--oauth-audience",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0 and "exclude each other" in done.stderr
