"""``nbmcp connect URL [--client NAME]`` against real servers on loopback ports, in a subprocess."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from jsonschema import Draft202012Validator

from nbmcp import MCPServer
from nbmcp.connect import CLIENTS, ConnectTarget, connect_info, describe
from tests.connect import schemas
from tests.connect.kit import AUTHS, KEY_AUTHS, connect

pytestmark = pytest.mark.timeout(120)

KEY = "tide-key-5Jq9WmX2"


def tide(**kwargs: object) -> MCPServer:
    server = MCPServer("tide tables", **kwargs)  # type: ignore[arg-type]

    @server.tool(read_only=True)
    def high_water(harbour: str) -> str:
        """The next high water in a harbour."""
        return f"{harbour}: 14:02"

    return server


@dataclass
class Live:
    """A running server, the key ``nbmcp connect`` finds in NBMCP_API_KEY, and the mode it should see."""

    url: str
    key: str | None
    auth: str
    secret: str | None  # the key the server holds: never in any output

    def expected(self, name: str = "tide tables") -> dict[str, dict[str, object]]:
        base = self.url.removesuffix("/mcp")
        return connect_info(ConnectTarget(name, self.url, self.auth, schema_url=base + "/openapi.json"))


def _start(auth: str) -> tuple[MCPServer, Live]:
    if auth == "none":
        server = tide()
        return server, Live(server.start(port=0), None, "none", None)
    if auth == "key":
        server = tide(api_key=KEY)
        return server, Live(server.start(port=0), KEY, "key", KEY)
    server = tide(auth="oauth")
    url = server.start(port=0)
    owner = server.access_key
    assert owner
    # without NBMCP_API_KEY the probe sees OAuth only; with the owner key, OAuth and a key
    return server, Live(url, owner if auth == "oauth+key" else None, auth, owner)


@pytest.fixture(params=AUTHS)
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    server, found = _start(request.param)
    try:
        yield found
    finally:
        server.stop()


def _clean(*texts: str, secret: str | None) -> None:
    if secret:
        for text in texts:
            assert secret not in text


def test_all_clients_print_as_text(live: Live) -> None:
    done = connect(live.url, key=live.key)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    heading = f"nbmcp server 'tide tables' at {live.url} (auth: {live.auth})"
    assert done.stdout == describe(live.expected(), heading)
    _clean(done.stdout, done.stderr, secret=live.secret)


FILE_SCHEMAS: dict[str, Callable[[str, str, bool], dict[str, object]]] = {
    "cursor": schemas.cursor,
    "vscode": schemas.vscode,
    "windsurf": schemas.windsurf,
    "claude_desktop": schemas.claude_desktop,
}


def test_each_client_prints_its_snippet_raw(live: Live) -> None:
    expected = live.expected()
    for client in CLIENTS:
        done = connect(live.url, "--client", client, key=live.key)
        assert done.returncode == 0, (client, done.stderr)
        assert done.stderr == "", client
        assert done.stdout == f"{expected[client]['snippet']}\n", client
        _clean(done.stdout, secret=live.secret)
        if client in FILE_SCHEMAS:
            schema = FILE_SCHEMAS[client]("tide-tables", live.url, live.auth in KEY_AUTHS)
            assert not list(Draft202012Validator(schema).iter_errors(json.loads(done.stdout))), client


def test_the_base_url_and_a_trailing_slash_give_the_same_settings() -> None:
    server, found = _start("key")
    try:
        base = found.url.removesuffix("/mcp")
        outputs = {
            connect(u, "--client", "cursor", key=KEY).stdout
            for u in (found.url, base, base + "/", found.url + "/")
        }
        assert outputs == {f"{found.expected()['cursor']['snippet']}\n"}
    finally:
        server.stop()


def test_name_flag_names_the_entry() -> None:
    server, found = _start("none")
    try:
        done = connect(found.url, "--client", "cursor", "--name", "harbour")
        assert list(json.loads(done.stdout)["mcpServers"]) == ["harbour"]
    finally:
        server.stop()


def test_a_key_server_without_the_key_warns_in_one_line() -> None:
    server, found = _start("key")
    try:
        done = connect(found.url, "--client", "claude_code")
        assert done.returncode == 0
        assert done.stdout == f"{found.expected()['claude_code']['snippet']}\n"
        assert done.stderr.splitlines() == [
            "nbmcp connect: warning: the server asks for an API key: set NBMCP_API_KEY where the clients run"
        ]
        wrong = connect(found.url, "--client", "claude_code", key="not-the-key")
        assert wrong.returncode == 0 and wrong.stdout == done.stdout
        assert wrong.stderr.splitlines() == [
            "nbmcp connect: warning: the server refused the key in NBMCP_API_KEY (401): check it"
        ]
        assert "not-the-key" not in wrong.stdout + wrong.stderr
    finally:
        server.stop()


def test_an_unknown_client_lists_the_valid_ones() -> None:
    done = connect("http://127.0.0.1:9/mcp", "--client", "emacs")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"nbmcp connect: unknown client 'emacs'; valid: {', '.join(CLIENTS)}\n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed on leaving: nothing listens there


@pytest.mark.parametrize("client", [None, "cursor"])
def test_an_unreachable_url_is_one_line_and_exit_1(client: str | None) -> None:
    port = _closed_port()
    done = connect(
        f"http://127.0.0.1:{port}/mcp", *(["--client", client] if client else []), "--timeout", "3"
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"nbmcp connect: cannot reach http://127.0.0.1:{port}/health: ")


def test_not_an_mcp_endpoint_or_not_a_url_is_exit_1() -> None:
    server, found = _start("none")
    try:
        base = found.url.removesuffix("/mcp")
        done = connect(base + "/elsewhere/mcp")
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.splitlines() == [
            f"nbmcp connect: no MCP endpoint at {base}/elsewhere/mcp (404): is this the server's URL?"
        ]
    finally:
        server.stop()
    bad = connect("ftp://127.0.0.1/mcp")
    assert bad.returncode == 1 and bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1 and "is not an http(s) URL" in bad.stderr
