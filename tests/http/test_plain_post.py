"""The curl shape: a plain POST with only ``Content-Type: application/json``, no Accept, no session.

ChatGPT connectors and shell scripts talk to servers this way. Every answer is checked by the
``mcp-types`` oracle; a request without ``MCP-Protocol-Version`` is judged at 2025-11-25 (what
nbmcp answers a lone request with) and a header-less batch at 2025-03-26 (what the transport spec
says to assume when the header is missing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer, ToolError
from tests.peers import oracle
from tests.peers.peerkit import bare_client, health_url, rpc

pytestmark = pytest.mark.timeout(60)

PLAIN = {"Content-Type": "application/json"}
LATEST = "2025-11-25"
HEADERLESS = "2025-03-26"


def build_server() -> MCPServer:
    server = MCPServer("plain")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    def refuse(reason: str) -> str:
        """Always refuses."""
        raise ToolError(f"refused because {reason}")

    @server.tool
    def explode() -> str:
        """Raises an unexpected exception."""
        raise RuntimeError("kaboom in the tool")

    @server.tool
    def lines(n: int = 2):  # type: ignore[no-untyped-def]
        """A generator tool (answered as JSON to a client that cannot take a stream)."""
        for i in range(n):
            yield f"line {i}"

    return server


@pytest.fixture
def url(serve: Any) -> str:
    return str(serve(build_server()))


@pytest.fixture
def http() -> Any:
    with bare_client() as client:
        yield client


def post(http: httpx.Client, url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = http.post(url, content=content, headers=headers if headers is not None else PLAIN)
    if headers is None:  # really the curl shape: nothing but what HTTP/1.1 needs
        assert set(response.request.headers) <= {"host", "content-length", "content-type"}, (
            response.request.headers
        )
    assert response.status_code < 500, (response.status_code, response.text)
    return response


def json_body(response: httpx.Response) -> Any:
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    return response.json()


# -- requests that work -----------------------------------------------------------------------


def test_tools_list(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/list", msg_id=1))
    assert response.status_code == 200
    result = oracle.validate_answer("tools/list", json_body(response), LATEST, request_id=1)
    assert {t["name"] for t in result["tools"]} == {"add", "refuse", "explode", "lines"}
    assert "mcp-session-id" not in response.headers, "a plain POST must not open a session"


def test_tools_call(http: httpx.Client, url: str) -> None:
    response = post(
        http, url, rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, msg_id="req-1")
    )
    assert response.status_code == 200
    result = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id="req-1")
    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": "5"}]
    assert result["structuredContent"] == {"result": 5}


def test_generator_tool_is_answered_as_json(http: httpx.Client, url: str) -> None:
    body = rpc(
        "tools/call", {"name": "lines", "arguments": {"n": 3}, "_meta": {"progressToken": 7}}, msg_id=2
    )
    response = post(http, url, body)
    assert response.status_code == 200
    result = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id=2)
    assert [b["text"] for b in result["content"]] == ["line 0", "line 1", "line 2"]


def test_ping(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("ping", msg_id=0))
    assert response.status_code == 200
    assert oracle.validate_answer("ping", json_body(response), LATEST, request_id=0) == {}


# -- tool failures are results, protocol failures are errors ----------------------------------


def test_raising_tool_is_an_error_result(http: httpx.Client, url: str) -> None:
    response = post(
        http, url, rpc("tools/call", {"name": "refuse", "arguments": {"reason": "tea"}}, msg_id=3)
    )
    assert response.status_code == 200
    result = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id=3, expect="result")
    assert result["isError"] is True
    assert result["content"][0]["text"] == "refused because tea"

    response = post(http, url, rpc("tools/call", {"name": "explode", "arguments": {}}, msg_id=4))
    result = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id=4, expect="result")
    assert result["isError"] is True
    assert "kaboom in the tool" in result["content"][0]["text"]


def test_unknown_tool_is_invalid_params(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/call", {"name": "nope", "arguments": {}}, msg_id=5))
    error = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id=5, expect="error")
    assert error["code"] == -32602
    assert "nope" in error["message"]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"a": "seven", "b": 1}, ["a"]),
        ({"a": 1}, ["b"]),
        ({}, ["a", "b"]),
        ({"a": 1, "b": 2, "c": 3}, ["c"]),
    ],
)
def test_invalid_arguments_name_the_argument(
    http: httpx.Client, url: str, arguments: dict[str, Any], named: list[str]
) -> None:
    response = post(http, url, rpc("tools/call", {"name": "add", "arguments": arguments}, msg_id=6))
    assert response.status_code == 200
    result = oracle.validate_answer("tools/call", json_body(response), LATEST, request_id=6, expect="result")
    assert result["isError"] is True
    message = result["content"][0]["text"]
    for name in named:
        assert f"{name}:" in message or f"'{name}'" in message or f"{name} " in message, message
    assert "Traceback" not in message


def test_notification_is_accepted_without_body(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("notifications/initialized"))
    assert response.status_code == 202
    assert response.content == b""
    response = post(
        http, url, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}}
    )
    assert response.status_code == 202 and response.content == b""


@pytest.mark.parametrize("request_id", [{"id": 1}, [1, 2], "never-sent", 12345, None])
def test_cancel_notification_for_any_request_id(http: httpx.Client, url: str, request_id: Any) -> None:
    """A notification is never answered, whatever its params hold (JSON-RPC 2.0 section 4.1)."""
    body = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
    response = post(http, url, body)
    assert response.status_code == 202, (response.status_code, response.text)
    assert response.content == b""
    assert post(http, url, rpc("ping", msg_id=1)).status_code == 200


# -- malformed messages -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{bad json", b"", b"\xff\xfe\x00", b'{"jsonrpc": "2.0", "id": 1,'])
def test_bad_json_is_parse_error(http: httpx.Client, url: str, body: bytes) -> None:
    response = post(http, url, body)
    assert response.status_code == 400
    error = oracle.validate_answer(None, json_body(response), LATEST, expect="error")
    assert error["code"] == -32700
    assert "id" not in json_body(response)  # unknown id: omitted, never null (MCP schema)


@pytest.mark.parametrize("body", [5, "tools/list", None, True, {"id": 1, "method": "ping"}])
def test_non_request_is_invalid_request(http: httpx.Client, url: str, body: Any) -> None:
    response = post(http, url, body)
    assert 400 <= response.status_code < 500
    error = oracle.validate_answer(None, json_body(response), LATEST, expect="error")
    assert error["code"] == -32600


def test_unknown_method(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/frobnicate", msg_id=8))
    error = oracle.validate_answer(
        "tools/frobnicate", json_body(response), LATEST, request_id=8, expect="error"
    )
    assert error["code"] == -32601


# -- batches ----------------------------------------------------------------------------------


def test_headerless_batch_is_answered_as_batch(http: httpx.Client, url: str) -> None:
    batch = [
        rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, msg_id=1),
        rpc("notifications/initialized"),
        rpc("ping", msg_id="two"),
        rpc("no/such/method", msg_id=3),
    ]
    response = post(http, url, batch)
    assert response.status_code == 200
    answers = json_body(response)
    assert isinstance(answers, list), answers
    by_id = {a["id"]: a for a in answers}
    assert set(by_id) == {1, "two", 3}, "one answer per request, none for the notification"
    result = oracle.validate_answer("tools/call", by_id[1], HEADERLESS, request_id=1)
    assert result["content"] == [{"type": "text", "text": "2"}]
    assert oracle.validate_answer("ping", by_id["two"], HEADERLESS, request_id="two") == {}
    error = oracle.validate_answer("no/such/method", by_id[3], HEADERLESS, request_id=3, expect="error")
    assert error["code"] == -32601


def test_batch_of_garbage_gets_one_error_each(http: httpx.Client, url: str) -> None:
    response = post(http, url, [1, 2, 3])
    assert 400 <= response.status_code < 500
    answers = json_body(response)
    assert isinstance(answers, list) and len(answers) == 3, answers
    for error in oracle.validate_answer(None, answers, HEADERLESS, expect="error"):
        assert error["code"] == -32600


def test_headerless_batch_of_notifications_is_accepted(http: httpx.Client, url: str) -> None:
    response = post(http, url, [rpc("notifications/initialized"), rpc("notifications/initialized")])
    assert response.status_code == 202 and response.content == b""


def test_batch_is_refused_at_2025_11_25(http: httpx.Client, url: str) -> None:
    batch = [rpc("ping", msg_id=1), rpc("tools/list", msg_id=2)]
    response = post(http, url, batch, {**PLAIN, "MCP-Protocol-Version": "2025-11-25"})
    assert response.status_code == 400
    error = oracle.validate_answer(None, json_body(response), "2025-11-25", expect="error")
    assert error["code"] == -32600


def test_empty_batch_is_invalid(http: httpx.Client, url: str) -> None:
    response = post(http, url, [])
    assert response.status_code == 400
    error = oracle.validate_answer(None, json_body(response), HEADERLESS, expect="error")
    assert error["code"] == -32600


# -- protocol versions a 2026 client may announce ---------------------------------------------


MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _modern_headers(method: str, version: str = MODERN) -> dict[str, str]:
    return {**PLAIN, "MCP-Protocol-Version": version, "Mcp-Method": method}


def test_a_2026_header_without_meta_is_malformed(http: httpx.Client, url: str) -> None:
    """2026-07-28 requests must carry their ``_meta`` envelope: 400 and -32602, with the id."""
    response = post(http, url, rpc("tools/list", msg_id=1), _modern_headers("tools/list"))
    assert response.status_code == 400
    error = oracle.validate_answer("tools/list", json_body(response), MODERN, expect="error")
    assert error["code"] == -32602
    assert json_body(response)["id"] == 1


def test_an_unknown_version_names_every_version_served(http: httpx.Client, url: str) -> None:
    meta = {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    response = post(
        http, url, rpc("tools/list", {"_meta": meta}, msg_id=1), _modern_headers("tools/list", "2099-01-01")
    )
    assert response.status_code == 400
    error = oracle.validate_answer("tools/list", json_body(response), MODERN, expect="error")
    assert error["code"] == -32022
    assert error["data"]["supported"] == [MODERN, *reversed(oracle.HANDSHAKE_VERSIONS)]
    assert error["data"]["requested"] == "2099-01-01"


def test_server_discover(http: httpx.Client, url: str) -> None:
    """``server/discover`` as the SDK probes it: every revision served, newest first."""
    response = post(
        http, url, rpc("server/discover", {"_meta": ENVELOPE}, msg_id=1), _modern_headers("server/discover")
    )
    assert response.status_code == 200
    result = oracle.validate_answer("server/discover", json_body(response), MODERN)
    assert result["supportedVersions"][0] == MODERN
    assert set(result["supportedVersions"]) == {MODERN, *oracle.HANDSHAKE_VERSIONS}
    assert result["resultType"] == "complete"
    assert isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0

    # Without the version header the body alone is not enough: -32020, not a silent legacy answer.
    response = post(http, url, rpc("server/discover", {"_meta": ENVELOPE}, msg_id=2))
    assert response.status_code == 400
    error = oracle.validate_answer("server/discover", json_body(response), MODERN, expect="error")
    assert error["code"] == -32020


def test_meta_version_on_an_older_request_must_match(http: httpx.Client, url: str) -> None:
    """A handshake-era request whose ``_meta`` names 2026-07-28 contradicts itself: -32020."""
    response = post(
        http, url, rpc("tools/list", {"_meta": ENVELOPE}, msg_id=1), {**PLAIN, "MCP-Protocol-Version": LATEST}
    )
    error = oracle.validate_answer("tools/list", json_body(response), LATEST, expect="error")
    assert error["code"] == -32020


# -- who may ask ------------------------------------------------------------------------------


def test_foreign_host_is_refused(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/list", msg_id=1), {**PLAIN, "Host": "evil.example.com"})
    assert 400 <= response.status_code < 500
    assert "tools" not in response.text
    oracle.validate_answer("tools/list", json_body(response), LATEST, expect="error")


def test_foreign_origin_is_forbidden(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/list", msg_id=1), {**PLAIN, "Origin": "http://evil.example.com"})
    assert response.status_code == 403
    assert "tools" not in response.text
    oracle.validate_answer("tools/list", json_body(response), LATEST, expect="error")


def test_loopback_origin_is_allowed(http: httpx.Client, url: str) -> None:
    origin = url.rsplit("/mcp", 1)[0]
    response = post(http, url, rpc("tools/list", msg_id=1), {**PLAIN, "Origin": origin})
    assert response.status_code == 200
    oracle.validate_answer("tools/list", json_body(response), LATEST, request_id=1)


# -- sessions ---------------------------------------------------------------------------------


def test_delete_without_session(http: httpx.Client, url: str) -> None:
    response = http.delete(url)
    assert response.status_code == 400
    oracle.validate_answer(None, json_body(response), LATEST, expect="error")


def test_delete_unknown_session(http: httpx.Client, url: str) -> None:
    response = http.delete(url, headers={"Mcp-Session-Id": "no-such-session"})
    assert response.status_code == 404
    oracle.validate_answer(None, json_body(response), LATEST, expect="error")


def test_unknown_session_id_is_not_found(http: httpx.Client, url: str) -> None:
    response = post(http, url, rpc("tools/list", msg_id=1), {**PLAIN, "Mcp-Session-Id": "no-such-session"})
    assert response.status_code == 404
    oracle.validate_answer("tools/list", json_body(response), LATEST, expect="error")


def test_deleted_session_is_gone(http: httpx.Client, url: str) -> None:
    init = rpc(
        "initialize",
        {"protocolVersion": LATEST, "capabilities": {}, "clientInfo": {"name": "plain", "version": "0"}},
        msg_id=1,
    )
    response = post(http, url, init)
    assert response.status_code == 200
    oracle.validate_answer("initialize", json_body(response), LATEST, request_id=1)
    session_id = response.headers["mcp-session-id"]
    assert all(0x21 <= ord(c) <= 0x7E for c in session_id), "session ids must be visible ASCII"
    headers = {**PLAIN, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": LATEST}
    assert post(http, url, rpc("ping", msg_id=2), headers).status_code == 200
    assert http.delete(url, headers={"Mcp-Session-Id": session_id}).status_code in (200, 204)
    gone = post(http, url, rpc("ping", msg_id=3), headers)
    assert gone.status_code == 404
    oracle.validate_answer("ping", json_body(gone), LATEST, expect="error")


def test_health(http: httpx.Client, url: str) -> None:
    response = http.get(health_url(url))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# -- the same with a real curl ----------------------------------------------------------------

CURL = shutil.which("curl")


def curl(url: str, body: bytes, *headers: str) -> tuple[int, bytes]:
    assert CURL is not None, "curl is missing: bash scripts/test.sh installs it"
    command = [CURL, "-sS", "--noproxy", "*", "--max-time", "30", "-X", "POST", url]
    for header in ("Content-Type: application/json", *headers):
        command += ["-H", header]
    command += ["--data-binary", "@-", "-o", "-", "-w", "\n%{http_code}"]
    done = subprocess.run(command, input=body, capture_output=True, timeout=60, check=True)
    content, _, status = done.stdout.rpartition(b"\n")
    return int(status), content


@pytest.mark.parametrize("accept", [None, "Accept:"], ids=["curl-default-accept", "no-accept"])
def test_with_real_curl(url: str, accept: str | None) -> None:
    extra = (accept,) if accept else ()
    status, content = curl(url, json.dumps(rpc("tools/list", msg_id=1)).encode(), *extra)
    assert status == 200
    result = oracle.validate_answer("tools/list", json.loads(content), LATEST, request_id=1)
    assert "add" in {t["name"] for t in result["tools"]}

    body = json.dumps(rpc("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}}, msg_id=2)).encode()
    status, content = curl(url, body, *extra)
    assert status == 200
    result = oracle.validate_answer("tools/call", json.loads(content), LATEST, request_id=2)
    assert result["structuredContent"] == {"result": 42}

    body = json.dumps(
        rpc("tools/call", {"name": "refuse", "arguments": {"reason": "curl"}}, msg_id=3)
    ).encode()
    status, content = curl(url, body, *extra)
    result = oracle.validate_answer("tools/call", json.loads(content), LATEST, request_id=3)
    assert result["isError"] is True and result["content"][0]["text"] == "refused because curl"

    status, content = curl(url, json.dumps(rpc("notifications/initialized")).encode(), *extra)
    assert (status, content) == (202, b"")

    status, content = curl(url, b"{not json", *extra)
    assert status == 400
    assert oracle.validate_answer(None, json.loads(content), LATEST, expect="error")["code"] == -32700
