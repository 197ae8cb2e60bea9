"""Clients get no traceback and no file path, unless the owner asked for them with ``debug=True``.

Every place a failure reaches a client is driven over real HTTP, with ``debug`` off and on: a
tool that raises (its message is meant for the client, its traceback is not), an internal
error on ``/mcp`` (a resource that raises), a REST 500, a middleware that raises (on ``/mcp``
and on REST), and the built-in OAuth endpoints failing (JSON on ``/token``'s neighbours, a
page on ``/authorize``). Off, no answer holds ``Traceback``, a source file name or a
directory of this machine; on, the traceback is in the error's data and names the failing
line. ``nbmcp serve --debug`` turns it on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import nbmcp
from nbmcp import MCPServer
from nbmcp.cli import _configure, _parser
from tests.oauth.consentkit import authorize_url, pkce, register
from tests.peers import oracle

pytestmark = pytest.mark.timeout(60)

VERSION = "2025-11-25"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
PLACES = (str(Path(__file__).resolve().parent.parent), str(Path(nbmcp.__file__).resolve().parent))
"""This checkout's directory and the package's: a path in an answer shows where the server lives."""


def revealing(text: str) -> list[str]:
    """What in ``text`` a client should not see without ``debug``: a traceback, a file, a directory."""
    found = [what for what in ("Traceback", 'File "', ".py", *PLACES) if what in text]
    return found


def test_revealing_finds_a_traceback() -> None:
    try:
        raise ValueError("x")
    except ValueError as exc:
        shown = nbmcp.errors.traceback_text(exc)
    assert {"Traceback", 'File "', ".py"} <= set(revealing(shown))
    assert revealing("ValueError: the file is missing") == []


def _rpc(method: str, params: dict[str, Any] | None = None, msg_id: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        body["params"] = params
    return body


class Broken(Exception):
    """Raised by this test's failing code; its message holds nothing private."""


async def breaking_middleware(request: Any, call_next: Any) -> Any:
    if request.headers.get("x-break") == "1":
        raise Broken("middleware broke")
    return await call_next(request)


def build(debug: bool, **kwargs: Any) -> MCPServer:
    server = MCPServer("debug-test", debug=debug, middleware=[breaking_middleware], **kwargs)

    @server.tool
    def explode(what: str) -> str:
        """Always raises."""
        raise ValueError(f"cannot {what}")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    @server.resource("data://broken")
    def broken() -> str:
        """Raises: an internal error on resources/read."""
        raise Broken("resource broke")

    return server


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest) -> bool:
    flag: bool = request.param
    return flag


@pytest.fixture
def served(debug: bool) -> Iterator[tuple[MCPServer, str, httpx.Client]]:
    server = build(debug)
    url = server.start()
    with httpx.Client(timeout=15, trust_env=False) as http:
        yield server, url, http
    server.stop()


def check(debug: bool, shown: str, traceback: str | None, where: str) -> None:
    """Off: nothing revealing in the whole answer. On: the traceback is there and names ``where``."""
    if not debug:
        assert revealing(shown) == [], shown[:800]
        assert traceback is None
        return
    assert traceback is not None, shown[:800]
    assert traceback.startswith("Traceback (most recent call last):"), traceback[:200]
    assert where in traceback and __file__ in traceback, traceback


def test_a_tool_that_raises(served: tuple[MCPServer, str, httpx.Client], debug: bool) -> None:
    server, url, http = served
    answer = http.post(
        url, json=_rpc("tools/call", {"name": "explode", "arguments": {"what": "fly"}}), headers=HEADERS
    )
    result = oracle.validate_answer("tools/call", answer.json(), VERSION, request_id=1, expect="result")
    assert result["isError"] is True
    texts = [block["text"] for block in result["content"]]
    assert texts[0] == "ValueError: cannot fly"  # the message is the client's
    check(debug, answer.text, texts[1] if len(texts) > 1 else None, 'raise ValueError(f"cannot {what}")')
    assert len(texts) == (2 if debug else 1)
    rest = http.post(f"{url.removesuffix('/mcp')}/tools/explode", json={"what": "swim"})
    assert rest.status_code == 400 and "ValueError: cannot swim" in rest.json()["error"]
    if not debug:
        assert revealing(rest.text) == [], rest.text
    else:
        assert "Traceback (most recent call last):" in rest.json()["error"]
    record = server.monitor.journal[-1].to_dict()
    # the call record (and the notebook's widget) keeps the message, never the traceback
    assert record["ok"] is False and record["error"] == "ValueError: cannot swim"
    assert revealing(json.dumps(record)) == [], record


def test_an_internal_error_on_mcp(served: tuple[MCPServer, str, httpx.Client], debug: bool) -> None:
    _, url, http = served
    answer = http.post(url, json=_rpc("resources/read", {"uri": "data://broken"}, 2), headers=HEADERS)
    error = oracle.validate_answer("resources/read", answer.json(), VERSION, request_id=2, expect="error")
    assert error["code"] == -32603 and error["message"] == "Internal error"
    data = error.get("data")
    check(debug, answer.text, data["traceback"] if data else None, 'raise Broken("resource broke")')


def test_a_rest_500(
    served: tuple[MCPServer, str, httpx.Client], debug: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url, http = served

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise Broken("the registry broke")

    monkeypatch.setattr(server.registry, "call_local", failing)
    answer = http.post(f"{url.removesuffix('/mcp')}/tools/add", json={"a": 1, "b": 2})
    assert answer.status_code == 500
    body = answer.json()
    assert body["type"] == "internal_error" and body["error"] == "Internal error"
    check(debug, answer.text, body.get("traceback"), 'raise Broken("the registry broke")')


@pytest.mark.parametrize("door", ["mcp", "rest"])
def test_a_middleware_that_raises(
    served: tuple[MCPServer, str, httpx.Client], debug: bool, door: str
) -> None:
    _, url, http = served
    broken = {**HEADERS, "x-break": "1"}
    if door == "mcp":
        answer = http.post(
            url, json=_rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}), headers=broken
        )
        assert answer.status_code == 500
        error = oracle.validate_answer(None, answer.json(), VERSION, expect="error")
        traceback = (error.get("data") or {}).get("traceback")
    else:
        answer = http.post(f"{url.removesuffix('/mcp')}/tools/add", json={"a": 1, "b": 2}, headers=broken)
        assert answer.status_code == 500 and answer.json()["type"] == "internal_error"
        traceback = answer.json().get("traceback")
    check(debug, answer.text, traceback, 'raise Broken("middleware broke")')
    # and the server is fine afterwards
    assert http.post(f"{url.removesuffix('/mcp')}/tools/add", json={"a": 1, "b": 2}).json() == {"result": 3}


def test_the_oauth_endpoints_failing(debug: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    server = build(debug, auth="oauth")
    server.oauth.configure(store="memory")
    url = server.start()
    base = url.removesuffix("/mcp")
    try:
        with httpx.Client(timeout=15, trust_env=False, follow_redirects=False) as http:

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise Broken("the metadata broke")

            monkeypatch.setattr(server.oauth, "metadata", fail)
            answer = http.get(f"{base}/.well-known/oauth-authorization-server")
            assert answer.status_code == 500 and answer.headers["cache-control"] == "no-store"
            body = answer.json()
            assert body["error"] == "server_error"  # RFC 6749's word for it
            check(debug, answer.text, body.get("traceback"), 'raise Broken("the metadata broke")')

            client_id = register(http, base)["client_id"]
            authority = server.oauth.authority(base)

            async def begin(*args: Any, **kwargs: Any) -> Any:
                raise Broken("the consent page broke")

            monkeypatch.setattr(authority, "begin", begin)
            page = http.get(authorize_url(base, client_id, pkce()[1]))
            assert page.status_code == 500 and "text/html" in page.headers["content-type"]
            assert "location" not in page.headers  # an error page, never a redirect
            assert ("Traceback" in page.text) is debug, page.text[:800]
            if not debug:
                assert revealing(page.text) == [], page.text
            monkeypatch.undo()
            assert http.get(f"{base}/.well-known/oauth-authorization-server").status_code == 200
    finally:
        server.stop()


def test_debug_is_off_by_default_and_nbmcp_serve_debug_turns_it_on(tmp_path: Path) -> None:
    assert MCPServer("x").config.debug is False
    assert MCPServer("x", debug=True).config.debug is True
    for argv, expected in ((["serve", "app.py"], False), (["serve", "app.py", "--debug"], True)):
        server = MCPServer("cli")
        _configure(server, _parser().parse_args(argv))
        assert server.config.debug is expected, argv


def test_the_debug_switch_is_read_live(served: tuple[MCPServer, str, httpx.Client], debug: bool) -> None:
    """Turning ``config.debug`` on or off while serving takes effect at the next failure."""
    server, url, http = served
    server.config.debug = not debug
    answer = http.post(url, json=_rpc("resources/read", {"uri": "data://broken"}, 3), headers=HEADERS)
    has = "traceback" in (answer.json()["error"].get("data") or {})
    assert has is (not debug)
