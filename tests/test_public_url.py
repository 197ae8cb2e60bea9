"""``--public-url https://host/prefix``: a server behind a reverse proxy that removes the prefix.

A real ``nbmcp serve`` process; the requests are real HTTP to it with the Host a proxy would
send. :class:`Proxy` is the proxy's rule written as an httpx transport: it forwards
``https://public.example/prefix/...`` with the prefix removed and
``https://public.example/.well-known/...`` as it is, and answers 404 for anything else (as a
proxy with only those two rules would). Every link the server writes must then lead back
through it: the OAuth metadata, the 401 challenge, the consent form, ``servers``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nbmcp import MCPServer
from tests.oauth.consentkit import call_tool, full_grant
from tests.peers.peerkit import CliServer, cli_server, nbmcp_command
from tests.peers.tools import ROOT

pytestmark = pytest.mark.timeout(120)

PUBLIC = "https://public.example/prefix"
OWNER = "owner-key-behind-the-proxy"
TARGET = """
from nbmcp import MCPServer

server = MCPServer("proxied")


@server.tool
def add(a: int, b: int) -> int:
    return a + b
"""


class Proxy(httpx.BaseTransport):
    """The reverse proxy's two rules, forwarding real requests to the server on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        path = url.raw_path.decode()
        if url.scheme != "https" or url.host != "public.example":
            return httpx.Response(502, text="not this proxy's host")
        if path.startswith("/prefix/"):
            path = path[len("/prefix") :]
        elif not path.startswith("/.well-known/"):
            return httpx.Response(404, text="the proxy forwards /prefix/ and /.well-known/ only")
        forwarded = httpx.Request(
            request.method,
            f"http://127.0.0.1:{self.port}{path}",
            headers=[(k, v) for k, v in request.headers.raw if k.lower() != b"host"],
            content=request.content,
        )
        forwarded.headers["host"] = "public.example"  # nginx: proxy_set_header Host $host
        forwarded.headers["x-forwarded-for"] = "203.0.113.7"
        return self.inner.handle_request(forwarded)

    def close(self) -> None:
        self.inner.close()


def _port(served: CliServer) -> int:
    return int(served.url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[CliServer]:
    target = tmp_path / "app.py"
    target.write_text(TARGET)
    env = {**os.environ, "NBMCP_API_KEY": OWNER}
    extra = ("--public-url", PUBLIC + "/", "--oauth", "--oauth-store", "memory")
    with cli_server(target, tmp_path, *extra, env=env) as server:
        yield server


def _through_proxy(served: CliServer) -> httpx.Client:
    return httpx.Client(transport=Proxy(_port(served)), timeout=15.0, follow_redirects=False)


def test_the_public_host_is_let_in_and_others_are_not(served: CliServer) -> None:
    local = f"http://127.0.0.1:{_port(served)}"
    with httpx.Client(timeout=15.0, trust_env=False) as http:
        assert http.get(f"{local}/health", headers={"host": "public.example"}).status_code == 200
        assert http.get(f"{local}/health", headers={"host": "evil.example"}).status_code == 421
        assert http.get(f"{local}/health").status_code == 200  # the proxy may keep Host 127.0.0.1:PORT
        for host in ("public.example", f"127.0.0.1:{_port(served)}"):
            schema = http.get(f"{local}/openapi.json", headers={"host": host})
            assert schema.status_code == 200
            assert schema.json()["servers"] == [{"url": PUBLIC}]


def test_oauth_documents_and_the_challenge_carry_the_prefix(served: CliServer) -> None:
    with _through_proxy(served) as http:
        refused = http.post(f"{PUBLIC}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401
        found = re.search(r'resource_metadata="([^"]+)"', refused.headers["www-authenticate"])
        assert found is not None, refused.headers
        document_url = found.group(1)
        assert document_url == "https://public.example/.well-known/oauth-protected-resource/prefix/mcp"
        resource = http.get(document_url)
        assert resource.status_code == 200, resource.text
        assert resource.json()["resource"] == f"{PUBLIC}/mcp"
        assert resource.json()["authorization_servers"] == [PUBLIC]
        for path in ("oauth-authorization-server", "openid-configuration"):  # RFC 8414 path insertion
            answer = http.get(f"https://public.example/.well-known/{path}/prefix")
            assert answer.status_code == 200, (path, answer.text)
            metadata = answer.json()
            assert metadata["issuer"] == PUBLIC
            for endpoint in ("authorization", "token", "registration", "revocation"):
                assert metadata[f"{endpoint}_endpoint"].startswith(f"{PUBLIC}/"), metadata
        # the forms a client builds from the prefixed base reach the same documents
        assert http.get(f"{PUBLIC}/.well-known/oauth-authorization-server").json()["issuer"] == PUBLIC
        assert (
            http.get(f"{PUBLIC}/.well-known/oauth-protected-resource").json()["resource"] == f"{PUBLIC}/mcp"
        )


def test_a_whole_grant_goes_through_the_proxy(served: CliServer) -> None:
    with _through_proxy(served) as http:
        grant = full_grant(http, OWNER, PUBLIC)  # register, the consent form, the token: all via links
        token = grant.tokens["access_token"]
        assert call_tool(http, PUBLIC, token).json() == {"result": 5}
        body = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
        }
        answer = http.post(
            f"{PUBLIC}/mcp",
            json=body,
            headers={"authorization": f"Bearer {token}", "accept": "application/json, text/event-stream"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["structuredContent"] == {"result": 3}


def test_serve_prints_the_proxy_rule(served: CliServer) -> None:
    port = _port(served)
    out, _ = served.output()
    assert f"  public URL: {PUBLIC}/mcp" in out
    local = f"http://127.0.0.1:{port}"
    assert f"  proxy: forward https://public.example/prefix/... -> {local}/... (the prefix removed)" in out
    assert (
        f"  proxy: forward https://public.example/.well-known/... -> http://127.0.0.1:{port}/.well-known/... "
        "as it is (OAuth clients read /.well-known/oauth-protected-resource/prefix/mcp and "
        "/.well-known/oauth-authorization-server/prefix at the host's root)"
    ) in out
    assert OWNER not in out


def test_in_process_public_url_answers_the_path_inserted_documents() -> None:
    server = MCPServer("proxied-in-process", auth="oauth", api_key=OWNER)
    server.public_url = "https://public.example/nb"
    url = server.start(port=0)
    try:
        base = url.removesuffix("/mcp")
        headers = {"host": "public.example"}
        with httpx.Client(timeout=15.0, trust_env=False) as http:
            resource = http.get(f"{base}/.well-known/oauth-protected-resource/nb/mcp", headers=headers)
            assert resource.json()["resource"] == "https://public.example/nb/mcp"
            issuer = http.get(f"{base}/.well-known/oauth-authorization-server/nb", headers=headers)
            assert issuer.json()["token_endpoint"] == "https://public.example/nb/token"
            assert http.get(f"{base}/.well-known/oauth-authorization-server/elsewhere").status_code == 404
    finally:
        server.stop()


def _serve_args(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*nbmcp_command(), "serve", "examples/weather.py", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "status", "line"),
    [
        (
            ("--public-url", "ftp://public.example/x"),
            1,
            "nbmcp: error: --public-url: 'ftp://public.example/x' is not an absolute http(s) URL; "
            "e.g. https://host.example/nb (the proxy forwards https://host.example/nb/... here)",
        ),
        (
            ("--public-url", "https://public.example/x?a=1"),
            1,
            "nbmcp: error: --public-url: 'https://public.example/x?a=1' has a query, fragment or user name; "
            "give the base URL only",
        ),
        (
            ("--publish", "--public-url", PUBLIC),
            2,
            "nbmcp serve: error: --publish and --public-url exclude each other: "
            "the tunnel gives the public URL",
        ),
        (("--provider", "ngrok"), 2, "nbmcp serve: error: --provider goes with --publish"),
        (
            ("--domain", "a.example", "--no-auth"),
            2,
            "nbmcp serve: error: --domain, --no-auth go with --publish",
        ),
    ],
)
def test_flags_that_do_not_fit_are_one_line(args: tuple[str, ...], status: int, line: str) -> None:
    done = _serve_args(*args)
    assert done.returncode == status, done
    assert done.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in done.stderr


def test_publish_without_a_tunnel_is_one_line_and_stops(tmp_path: Path) -> None:
    """``--publish`` wires to ``server.publish``: a tunnel that cannot open ends the command, one line."""
    env = {**os.environ, "NBMCP_CLOUDFLARED_PATH": str(tmp_path / "no-cloudflared")}
    env.pop("NGROK_AUTHTOKEN", None)
    done = subprocess.run(
        [
            *nbmcp_command(),
            "serve",
            "examples/weather.py",
            "--port",
            "0",
            "--publish",
            "--provider",
            "cloudflared",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 1, done
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("nbmcp: error: "), done.stderr
    assert "NBMCP_CLOUDFLARED_PATH" in errors[0]
    assert "nbmcp: serving 'weather'" in done.stdout and "published at" not in done.stdout
