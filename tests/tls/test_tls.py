"""Own TLS: ``nbmcp serve --ssl-certfile F --ssl-keyfile F`` and ``MCPServer.start(ssl_certfile=...)``.

The server speaks HTTPS itself with a certificate from a test CA; the official MCP SDK client,
trusting that CA (and nothing else), lists and calls tools. A certificate or key that cannot
serve is one line, never a traceback, and nothing is left listening.
"""

from __future__ import annotations

import signal
import ssl
import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from nbmcp import MCPServer
from nbmcp.errors import ServerStartError
from tests.notebook.mcpkit import port_is_free
from tests.peers.peerkit import nbmcp_command
from tests.peers.tools import ROOT, free_port
from tests.tls.tlskit import Certs, make_certs, serve_https

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path)


async def _list_and_call(url: str, context: ssl.SSLContext, tool: str, arguments: dict[str, Any]) -> Any:
    """The SDK client over HTTPS: initialize, ``tools/list``, one ``tools/call``; returns both results."""
    async with (
        httpx2.AsyncClient(verify=context, timeout=15.0, trust_env=False) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()
        called = await session.call_tool(tool, arguments)
        return {t.name for t in listed.tools}, called


def _sdk(url: str, context: ssl.SSLContext, tool: str, arguments: dict[str, Any]) -> Any:
    found: list[Any] = []

    async def bounded() -> None:
        with anyio.fail_after(60):
            found.append(await _list_and_call(url, context, tool, arguments))

    anyio.run(bounded)
    return found[0]


def test_serve_over_https_lists_and_calls_tools(certs: Certs) -> None:
    with serve_https("examples/weather.py", certs) as (port, proc):
        url = f"https://127.0.0.1:{port}/mcp"
        names, called = _sdk(url, certs.context(), "get_weather", {"city": "Tokyo"})
        assert {"get_weather", "slow_count"} <= names
        assert not called.is_error, called
        assert called.structured_content == {"city": "Tokyo", "temperature": 18.5, "unit": "celsius"}
        with pytest.raises(httpx.TransportError):  # plain HTTP on the HTTPS port gets no answer
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5, trust_env=False)
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the test CA refuses it
            httpx.get(f"https://127.0.0.1:{port}/health", timeout=5, trust_env=False)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"at https://127.0.0.1:{port}/mcp" in out
    assert out.rstrip().endswith("nbmcp: stopped")
    assert port_is_free(port)


def _serve_once(*args: str) -> subprocess.CompletedProcess[str]:
    port = free_port()
    return subprocess.run(
        [*nbmcp_command(), "serve", "examples/weather.py", "--port", str(port), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_bad_certificate_or_key_is_one_line(certs: Certs, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cases = {
        (
            str(missing),
            str(certs.key),
        ): f"cannot read the TLS certificate file {missing}: No such file or directory",
        (str(certs.cert), str(missing)): f"cannot read the TLS key file {missing}: No such file or directory",
        (str(junk), str(certs.key)): f"the TLS certificate file {junk} holds no PEM certificate",
        (str(certs.cert), str(junk)): f"the TLS key file {junk} holds no PEM private key",
        (str(certs.cert), str(certs.other_key)): (
            f"the TLS key {certs.other_key} does not match the certificate {certs.cert}"
        ),
    }
    for (cert, key), message in cases.items():
        done = _serve_once("--ssl-certfile", cert, "--ssl-keyfile", key)
        assert done.returncode == 1, done
        assert done.stderr.strip() == f"nbmcp: error: {message}", done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_the_two_flags_go_together(certs: Certs) -> None:
    for flag, path in (("--ssl-certfile", certs.cert), ("--ssl-keyfile", certs.key)):
        done = _serve_once(flag, str(path))
        assert done.returncode == 2, done
        last = done.stderr.strip().splitlines()[-1]
        assert (
            last
            == "nbmcp serve: error: --ssl-certfile and --ssl-keyfile go together: the certificate and its key"
        )


def _server() -> MCPServer:
    server = MCPServer("tls-judge")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


def test_start_serves_https_in_process(certs: Certs) -> None:
    server = _server()
    url = server.start(port=0, ssl_certfile=str(certs.cert), ssl_keyfile=str(certs.key))
    try:
        port = server.port
        assert url == server.url == f"https://127.0.0.1:{port}/mcp"
        assert server.start(ssl_certfile=str(certs.cert), ssl_keyfile=str(certs.key)) == url  # same: no-op
        assert server.start() == url
        names, called = _sdk(url, certs.context(), "add", {"a": 20, "b": 22})
        assert names == {"add"}
        assert called.structured_content == {"result": 42}
        health = httpx.get(
            f"https://127.0.0.1:{port}/health", verify=certs.context(), trust_env=False, timeout=5
        )
        assert health.json()["status"] == "ok"
    finally:
        server.stop()
    assert server.url is None and port is not None and port_is_free(port)
    plain = server.start(port=0)  # the next start without a certificate is plain HTTP again
    try:
        assert plain.startswith("http://127.0.0.1:")
    finally:
        server.stop()


def test_start_refuses_a_key_that_does_not_match(certs: Certs) -> None:
    server = _server()
    port = free_port()
    with pytest.raises(ServerStartError) as caught:
        server.start(port=port, ssl_certfile=str(certs.cert), ssl_keyfile=str(certs.other_key))
    assert str(caught.value) == f"the TLS key {certs.other_key} does not match the certificate {certs.cert}"
    assert server.url is None and port_is_free(port)
    with pytest.raises(ServerStartError, match="ssl_keyfile needs ssl_certfile"):
        server.start(port=port, ssl_keyfile=str(certs.key))
    assert server.url is None and port_is_free(port)
