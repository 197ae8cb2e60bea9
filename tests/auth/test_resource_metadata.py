"""RFC 9728 documents, the URLs 401s point to, and ``nbmcp serve --oauth-issuer``.

The documents exist only while an OAuth mode is on (404 otherwise), need no credentials,
describe the MCP endpoint and name the issuer. Behind a public URL with a path prefix the
document lives at the host's root (``/.well-known/oauth-protected-resource/PREFIX/mcp``), and a
``Host`` that could break the header is never echoed into it.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.auth.issuer import OAuthIssuer
from nbmcp.config import ServerConfig
from nbmcp.http.resource_metadata import base_url, metadata_url, resource_url
from tests.auth.issuerkit import AUDIENCE, SUB, TestIssuer
from tests.auth.test_auth_matrix import parse_challenge
from tests.peers.peerkit import cli_server, nbmcp_command, rpc

pytestmark = pytest.mark.timeout(120)

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@pytest.fixture(scope="module")
def kit() -> Iterator[TestIssuer]:
    with TestIssuer() as issuer:
        yield issuer


def test_no_documents_without_oauth(serve: Any) -> None:
    for server in (MCPServer("plain"), MCPServer("keyed", api_key="k-Lp2")):
        base = serve(server).removesuffix("/mcp")
        for path in (WELL_KNOWN, WELL_KNOWN + "/mcp"):
            assert httpx.get(base + path, timeout=10).status_code == 404


def test_documents_name_the_issuer_without_credentials(kit: TestIssuer, serve: Any) -> None:
    server = MCPServer("doc", api_key="k-Lp2", auth=OAuthIssuer(kit.url, AUDIENCE))

    @server.tool(scopes=["files:read"])
    def ls() -> list[str]:
        """List files."""
        return []

    url = serve(server)
    base = url.removesuffix("/mcp")
    for path in (WELL_KNOWN, WELL_KNOWN + "/mcp"):
        answer = httpx.get(base + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert answer.json() == {
            "resource": url,
            "authorization_servers": [kit.url],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["files:read"],
        }
        head = httpx.head(base + path, timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(answer.content)
        assert httpx.post(base + path, timeout=10).status_code == 405


def test_a_public_url_with_a_prefix_puts_the_document_at_the_hosts_root(kit: TestIssuer, serve: Any) -> None:
    server = MCPServer("published", auth=OAuthIssuer(kit.url, AUDIENCE))
    url = serve(server)
    base = url.removesuffix("/mcp")
    server.public_url = "https://nb.example/u/alice/"
    refused = httpx.post(url, json=rpc("tools/list", msg_id=1), timeout=10)
    _, params = parse_challenge(refused.headers["www-authenticate"])
    assert params["resource_metadata"] == f"https://nb.example{WELL_KNOWN}/u/alice/mcp"
    document = httpx.get(base + WELL_KNOWN + "/mcp", timeout=10).json()
    assert document["resource"] == "https://nb.example/u/alice/mcp"


def test_urls_from_the_request() -> None:
    config = ServerConfig(port=8000)

    def scope(host: str, **extra: Any) -> dict[str, Any]:
        return {"headers": [(b"host", host.encode())], "server": ("127.0.0.1", 8000), **extra}

    assert base_url(scope("127.0.0.1:8000"), config) == "http://127.0.0.1:8000"
    assert base_url(scope("[::1]:8000", scheme="https", root_path="/nb"), config) == "https://[::1]:8000/nb"
    for hostile in ('a"b', "a b", "a\\b", "x.example/path", ""):
        assert base_url(scope(hostile), config) == "http://127.0.0.1:8000", hostile
    assert resource_url("https://h.example/nb") == "https://h.example/nb/mcp"
    assert metadata_url("https://h.example") == f"https://h.example{WELL_KNOWN}/mcp"
    assert metadata_url("https://h.example:8443/a/b") == f"https://h.example:8443{WELL_KNOWN}/a/b/mcp"
    config.public_url = 'https://pub.example/"x'
    assert '"' not in base_url(scope("127.0.0.1"), config)


SERVED = textwrap.dedent(
    '''
    from nbmcp import MCPServer

    server = MCPServer("cli-issued")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b
    '''
)


def test_nbmcp_serve_with_an_outside_issuer(kit: TestIssuer, tmp_path: Path) -> None:
    target = tmp_path / "issued.py"
    target.write_text(SERVED)
    flags = ["--oauth-issuer", kit.url, "--oauth-audience", AUDIENCE, "--oauth-scope", "mcp:use"]
    fetched = kit.jwks_fetches
    with cli_server(target, tmp_path, *flags) as served:
        assert kit.jwks_fetches == fetched + 1  # checked at start: a wrong URL is reported at once
        body = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, msg_id=1)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        bare = httpx.post(served.url, json=body, headers=headers, timeout=10)
        assert bare.status_code == 401
        _, params = parse_challenge(bare.headers["www-authenticate"])
        assert params["resource_metadata"].endswith(f"{WELL_KNOWN}/mcp")
        token = kit.mint(scope="mcp:use")
        ok = httpx.post(
            served.url, json=body, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=10
        )
        assert ok.status_code == 200 and ok.json()["result"]["structuredContent"] == {"result": 3}
        lacking = kit.mint(scope="other")
        assert (
            httpx.post(
                served.url, json=body, headers={**headers, "Authorization": f"Bearer {lacking}"}, timeout=10
            ).status_code
            == 403
        )
    out, err = served.output()
    assert f"OAuth: tokens from {kit.url}" in out and f"{WELL_KNOWN}/mcp" in out
    assert token not in out + err and SUB not in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--oauth-issuer", "https://issuer.example"], "--oauth-issuer and --oauth-audience go together"),
        (["--oauth-audience", "aud"], "--oauth-issuer and --oauth-audience go together"),
        (["--oauth-issuer", "http://issuer.example", "--oauth-audience", "a"], "must be an https:// URL"),
    ],
)
def test_nbmcp_serve_issuer_mistakes_are_one_line(tmp_path: Path, flags: list[str], message: str) -> None:
    target = tmp_path / "issued.py"
    target.write_text(SERVED)
    proc = subprocess.run(
        [*nbmcp_command(), "serve", str(target), "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbmcp: error: ") and message in lines[0], proc.stderr


def test_the_same_under_server_app(kit: TestIssuer) -> None:
    """``server.app`` in any ASGI server (no fast lane): the same challenge, documents and tokens."""
    from nbmcp.http.runner import BackgroundServer

    server = MCPServer("mounted", auth=OAuthIssuer(kit.url, AUDIENCE))
    plain = BackgroundServer(server.app, "127.0.0.1", 0)
    plain.start()
    try:
        base = f"http://127.0.0.1:{plain.port}"
        refused = httpx.post(f"{base}/mcp", json=rpc("tools/list", msg_id=1), timeout=10)
        assert refused.status_code == 401
        _, params = parse_challenge(refused.headers["www-authenticate"])
        assert params["resource_metadata"] == f"{base}{WELL_KNOWN}/mcp"
        assert httpx.get(params["resource_metadata"], timeout=10).json()["authorization_servers"] == [kit.url]
        headers = {"Authorization": f"Bearer {kit.mint()}", "Accept": "application/json"}
        assert (
            httpx.post(
                f"{base}/mcp", json=rpc("tools/list", msg_id=2), headers=headers, timeout=10
            ).status_code
            == 200
        )
    finally:
        plain.stop()
