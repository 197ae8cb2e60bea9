"""CORS: allowed browser origins get readable answers, every other origin gets none.

Off by default. ``cors=["chatgpt"]`` lets https://chatgpt.com and https://chat.openai.com
in: their preflights are answered ``204`` before authentication (a preflight never carries
credentials), and every answer to them, refusals and event streams included, carries the
CORS headers a page needs to read it. https://evil.example is refused (``403``), preflight or
not, and gets no CORS header; a loopback page not in the list still passes the DNS-rebinding
guard as before, but without CORS headers its browser keeps the answer from it. The same
holds under ``start()`` and ``server.app``, on ``/mcp``, the REST facade and ``/openapi.json``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.cli import main
from nbmcp.config import expand_origins
from tests.http import twoways
from tests.http.sse_client import events
from tests.peers import oracle
from tests.peers.peerkit import cli_server, rpc

pytestmark = pytest.mark.timeout(60)

KEY = "cors-key-Hq27"
CHATGPT = "https://chatgpt.com"
EVIL = "https://evil.example"
ALLOW_HEADERS = {
    "authorization",
    "x-api-key",
    "content-type",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "last-event-id",
}
CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)
JSON = {"Content-Type": "application/json", "Accept": "application/json"}
PATHS = ["/mcp", "/tools/add", "/openapi.json"]


def build(**kwargs: Any) -> MCPServer:
    return twoways.build("cors", **kwargs)


@pytest.fixture
def both() -> Iterator[tuple[MCPServer, list[str]]]:
    """A keyed server with ``cors=["chatgpt"]``, served by ``start()`` and as ``server.app``."""
    server = build(api_key=KEY, cors=["chatgpt"])
    with twoways.served_two_ways(server) as bases:
        yield server, bases


def names(value: str | None) -> set[str]:
    """A comma-separated header value as a set of lower-case items."""
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def preflight(base: str, path: str, origin: str, method: str = "POST") -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id, mcp-protocol-version",
    }
    return httpx.options(base + path, headers=headers, timeout=10)


def actual(base: str, path: str, origin: str | None, key: str | None = KEY) -> httpx.Response:
    headers = dict(JSON)
    if origin is not None:
        headers["Origin"] = origin
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if path == "/openapi.json":
        return httpx.get(base + path, headers=headers, timeout=10)
    body = rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, msg_id=4)
    return httpx.post(
        base + path, json=body if path == "/mcp" else {"a": 2, "b": 3}, headers=headers, timeout=10
    )


def assert_readable_by(answer: httpx.Response, origin: str) -> None:
    """The headers that let a page at ``origin`` read ``answer`` (with credentials)."""
    assert answer.headers["access-control-allow-origin"] == origin
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "origin" in names(answer.headers.get("vary"))
    assert names(answer.headers.get("access-control-expose-headers")) == {
        "mcp-session-id",
        "www-authenticate",
    }


def assert_no_cors(answer: httpx.Response) -> None:
    present = [name for name in CORS_HEADERS if name in answer.headers]
    assert present == [], (answer.url, present)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("origin", [CHATGPT, "https://chat.openai.com"])
def test_a_preflight_from_an_allowed_origin_is_answered_before_authentication(
    both: tuple[MCPServer, list[str]], path: str, origin: str
) -> None:
    server, bases = both
    for base in bases:
        answer = preflight(base, path, origin)  # no credentials, as browsers send preflights
        assert answer.status_code == 204, (answer.url, answer.text)
        assert answer.content == b""
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert "origin" in names(answer.headers.get("vary"))
        assert names(answer.headers["access-control-allow-methods"]) >= {"get", "post", "delete"}
        assert names(answer.headers["access-control-allow-headers"]) == ALLOW_HEADERS
        assert int(answer.headers["access-control-max-age"]) > 0
        assert "www-authenticate" not in answer.headers
    assert server.monitor.total_calls == 0


def test_a_preflight_may_ask_for_a_tools_param_headers(both: tuple[MCPServer, list[str]]) -> None:
    """2026-07-28 clients mirror ``x-mcp-header`` parameters in ``Mcp-Param-{Name}`` headers: a
    page's preflight asking for them gets them allowed, and nothing else it made up."""
    _server, bases = both
    for base in bases:
        asked = "content-type, Mcp-Param-Region, mcp-param-tenant_id, x-made-up, mcp-param-, mcp-param-a(b)"
        answer = httpx.options(
            base + "/mcp",
            headers={
                "Origin": CHATGPT,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": asked,
            },
            timeout=10,
        )
        assert answer.status_code == 204, answer.text
        allowed = names(answer.headers["access-control-allow-headers"])
        assert allowed == ALLOW_HEADERS | {"mcp-param-region", "mcp-param-tenant_id"}


@pytest.mark.parametrize("path", PATHS)
def test_actual_requests_from_an_allowed_origin_are_readable(
    both: tuple[MCPServer, list[str]], path: str
) -> None:
    _, bases = both
    for base in bases:
        answer = actual(base, path, CHATGPT)
        assert answer.status_code == 200, (answer.url, answer.text)
        assert_readable_by(answer, CHATGPT)
        if path == "/mcp":
            result = oracle.validate_answer("tools/call", answer.json(), "2025-11-25", expect="result")
            assert result["structuredContent"] == {"result": 5}
        elif path == "/tools/add":
            assert answer.json() == {"result": 5}


@pytest.mark.parametrize("path", ["/mcp", "/tools/add"])  # /openapi.json is open by default
def test_a_refusal_to_an_allowed_origin_is_readable_by_its_page(
    both: tuple[MCPServer, list[str]], path: str
) -> None:
    _, bases = both
    for base in bases:
        answer = actual(base, path, CHATGPT, key=None)
        assert answer.status_code == 401, (answer.url, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer ")
        assert_readable_by(answer, CHATGPT)  # the page can read the 401 and its challenge


@pytest.mark.parametrize("path", PATHS)
def test_a_foreign_origin_is_refused_and_gets_no_cors_headers(
    both: tuple[MCPServer, list[str]], path: str
) -> None:
    server, bases = both
    for base in bases:
        for answer in (preflight(base, path, EVIL), actual(base, path, EVIL)):
            assert answer.status_code == 403, (answer.url, answer.text)
            assert_no_cors(answer)
            payload = answer.json()
            if path == "/mcp":
                error = oracle.validate_answer("tools/call", payload, "2025-11-25", expect="error")
                assert error["code"] == -32600
            else:
                assert payload["type"] == "forbidden"
    assert server.monitor.total_calls == 0


def test_a_loopback_page_not_in_the_list_passes_the_guard_but_gets_no_cors(
    both: tuple[MCPServer, list[str]],
) -> None:
    _, bases = both
    for base in bases:
        refused = preflight(base, "/mcp", "http://localhost:5173")
        assert refused.status_code == 403
        assert_no_cors(refused)
        served = actual(base, "/mcp", "http://localhost:5173")  # the DNS-rebinding rule holds
        assert served.status_code == 200
        assert_no_cors(served)


def test_an_event_stream_to_an_allowed_origin_carries_the_headers(both: tuple[MCPServer, list[str]]) -> None:
    _, bases = both
    body = rpc(
        "tools/call", {"name": "steps", "arguments": {"n": 2}, "_meta": {"progressToken": "p"}}, msg_id=9
    )
    headers = {**JSON, "Accept": "application/json, text/event-stream", "Origin": CHATGPT, "X-API-Key": KEY}
    for base in bases:
        with httpx.stream("POST", base + "/mcp", json=body, headers=headers, timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert_readable_by(stream, CHATGPT)
            kinds = [e["data"].get("method", "answer") for e in events(stream) if e.get("data")]
        assert kinds == ["notifications/progress", "notifications/progress", "answer"]


def test_cors_is_off_by_default(serve: Any) -> None:
    base = serve(build()).removesuffix("/mcp")
    for path in PATHS:
        for answer in (preflight(base, path, CHATGPT), actual(base, path, CHATGPT, key=None)):
            assert answer.status_code == 403, (path, answer.text)  # a foreign origin, as before
            assert_no_cors(answer)
        local = preflight(base, path, "http://127.0.0.1:3000")
        assert local.status_code == 405  # no layer answered it: the door says what it takes
        assert "allow" in local.headers
        assert "vary" not in local.headers
        assert_no_cors(local)


def test_any_origin_is_allowed_without_credentials(serve: Any) -> None:
    base = serve(build(cors=["*"])).removesuffix("/mcp")
    for answer in (preflight(base, "/mcp", EVIL), actual(base, "/mcp", EVIL, key=None)):
        assert answer.status_code in (200, 204), answer.text
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


def test_allowed_origins_is_the_same_list(serve: Any) -> None:
    server = build(allowed_origins=["https://a.example:443/"], cors=["claude"])
    assert server.config.cors == ["https://claude.ai", "https://claude.com", "https://a.example"]
    assert server.config.allowed_origins is server.config.cors
    base = serve(server).removesuffix("/mcp")
    for origin in ("https://a.example", "https://claude.ai"):
        assert preflight(base, "/mcp", origin).status_code == 204
        assert_readable_by(actual(base, "/tools/add", origin), origin)
    assert preflight(base, "/mcp", CHATGPT).status_code == 403
    server.config.allowed_origins = ["chatgpt"]  # changed while serving: holds at once
    assert preflight(base, "/mcp", CHATGPT).status_code == 204
    assert preflight(base, "/mcp", "https://a.example").status_code == 403


def test_origins_are_normalized_and_mistakes_are_one_clear_line() -> None:
    given = ["chatgpt", "HTTPS://Chatgpt.com/", "http://[::1]:80", "https://b.example:8443", "*"]
    assert expand_origins(given) == [
        "https://chatgpt.com",
        "https://chat.openai.com",
        "http://[::1]",
        "https://b.example:8443",
        "*",
    ]
    for bad in ("chatgpt.com", "ftp://a.example", "https://a.example/path", "https://u@a.example", ""):
        with pytest.raises(ValueError, match="is not an origin") as caught:
            MCPServer("bad", cors=[bad])
        assert "\n" not in str(caught.value)


def _target(tmp_path: Path) -> Path:
    path = tmp_path / "corsapp.py"
    path.write_text(
        textwrap.dedent(
            """
            from nbmcp import MCPServer

            server = MCPServer("corsapp")

            @server.tool
            def add(a: int, b: int) -> int:
                \"\"\"Add two numbers.\"\"\"
                return a + b
            """
        )
    )
    return path


def test_the_cli_flag_takes_presets_and_origins(tmp_path: Path) -> None:
    target = _target(tmp_path)
    with cli_server(target, tmp_path, "--cors", "chatgpt,claude", "--cors", "https://a.example") as srv:
        base = srv.url.removesuffix("/mcp")
        for origin in (CHATGPT, "https://chat.openai.com", "https://claude.ai", "https://claude.com"):
            assert preflight(base, "/mcp", origin).headers["access-control-allow-origin"] == origin
        answer = actual(base, "/tools/add", "https://a.example", key=None)
        assert answer.json() == {"result": 5}
        assert_readable_by(answer, "https://a.example")
        refused = preflight(base, "/mcp", EVIL)
        assert refused.status_code == 403
        assert_no_cors(refused)


def test_a_bad_cli_origin_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(_target(tmp_path)), "--cors", "chatgpt,nope"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("nbmcp: error: --cors: 'nope' is not an origin")
    assert "\n" not in err
