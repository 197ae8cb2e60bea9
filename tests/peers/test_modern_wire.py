"""Protocol 2026-07-28 on nbmcp's ``/mcp``, spoken by hand over real HTTP (httpx).

No conformance suite here: each test builds the POST itself (per-request ``_meta``, the
``MCP-Protocol-Version`` / ``Mcp-Method`` / ``Mcp-Name`` headers) and every answer goes
through :func:`tests.peers.oracle.validate_answer` at 2026-07-28, which holds it to the
specification's own ``schema/2026-07-28/schema.json`` (``resultType`` on every result, cache
hints on the cacheable ones, the error shapes). The same server keeps answering a plain
headerless POST exactly as before (the last tests).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nbmcp import Context, MCPServer, ToolError
from tests.peers import oracle
from tests.peers.peerkit import bare_client, read_messages, rpc

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]

MODERN = "2026-07-28"
PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
ALL_CAPS: dict[str, Any] = {"sampling": {}, "elicitation": {}, "roots": {}}
_NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
_UNSET: Any = object()
COMPLETE_CITY = {"name": "city", "value": "O"}


def meta(version: str = MODERN, caps: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A complete ``_meta`` envelope (``caps`` defaults to every client capability)."""
    return {
        PROTOCOL_VERSION: version,
        CAPABILITIES: ALL_CAPS if caps is None else caps,
        CLIENT_INFO: {"name": "wire-test", "version": "0"},
        **extra,
    }


def modern_headers(method: str, params: dict[str, Any] | None, version: str = MODERN) -> dict[str, str]:
    """The headers a 2026-07-28 client sends with ``method`` (``Mcp-Name`` for the named methods)."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": version,
        "Mcp-Method": method,
    }
    named = (params or {}).get("uri" if method == "resources/read" else "name")
    if method in ("tools/call", "prompts/get", "resources/read") and isinstance(named, str):
        headers["Mcp-Name"] = named
    return headers


def send(
    http: httpx.Client,
    url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    envelope: Any = _UNSET,
    headers: dict[str, str] | None = None,
) -> tuple[httpx.Response, dict[str, Any], list[dict[str, Any]]]:
    """POST one request; ``(response, its answer, the other messages on its stream)``.

    ``params`` gets ``_meta`` = ``envelope`` (default :func:`meta`; ``None`` leaves it out).
    ``headers`` replace the standard ones (``{}`` sends only the content headers).
    """
    body = dict(params or {})
    if envelope is _UNSET:
        envelope = meta()
    if envelope is not None:
        body["_meta"] = envelope
    message = rpc(method, body)
    sent = modern_headers(method, body) if headers is None else {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        **headers,
    }  # fmt: skip
    response = http.post(url, json=message, headers=sent)
    messages = read_messages(response)
    answers, others = oracle.split_answers(messages)
    assert len(answers) == 1, messages
    assert answers[0].get("id") == message["id"], f"the answer must carry the request id: {answers[0]!r}"
    return response, answers[0], others


def result_of(
    http: httpx.Client, url: str, method: str, params: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A 200 result, judged by the 2026-07-28 schema."""
    response, answer, others = send(http, url, method, params, **kwargs)
    assert response.status_code == 200, (response.status_code, answer)
    for other in others:
        oracle.validate_server_message(other, MODERN)
    result: dict[str, Any] = oracle.validate_answer(method, answer, MODERN, expect="result")
    return result


def error_of(
    http: httpx.Client,
    url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    status: int,
    code: int,
    **kwargs: Any,
) -> dict[str, Any]:
    """An error answer with HTTP ``status`` and JSON-RPC ``code``, judged by the 2026-07-28 schema."""
    response, answer, _ = send(http, url, method, params, **kwargs)
    error: dict[str, Any] = oracle.validate_answer(method, answer, MODERN, expect="error")
    assert (response.status_code, error["code"]) == (status, code), (response.status_code, error)
    return error


def build_server(**kwargs: Any) -> MCPServer:
    server = MCPServer("wire-judge", "4.5.6", instructions="Judged by hand.", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise ToolError("no can do")

    @server.tool
    def lines(n: int):  # type: ignore[no-untyped-def]
        """A generator tool: one chunk per line."""
        for i in range(n):
            yield f"line {i}"

    @server.tool
    async def chatty(ctx: Context) -> str:
        """Logs at two levels."""
        await ctx.info("an info line")
        await ctx.warning("a warning line")
        return "logged"

    @server.tool
    async def greet(ctx: Context, polite: bool = False) -> str:
        """Asks the user's name (key ``name``), then greets them."""
        reply = await ctx.elicit("What is your name?", _NAME, key="name")
        hello = "Good day" if polite else "Hello"
        return f"{hello}, {(reply.get('content') or {}).get('name')}!"

    @server.tool
    async def ask_model(ctx: Context) -> str:
        """Sampling: needs the client's sampling capability."""
        reply = await ctx.sample("ping?", max_tokens=10)
        return str(reply["content"]["text"])

    @server.tool(headers={"region": "Region"})
    def route(region: str, size: int = 1) -> str:
        """Routed by region (mirrored into ``Mcp-Param-Region``)."""
        return f"{region}:{size}"

    @server.resource("data://config", mime_type="application/json")
    def config() -> dict[str, Any]:
        """Static config."""
        return {"level": 3}

    @server.resource("weather://{city}/now")
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    @server.prompt()
    def plan(city: str) -> str:
        """Plan a trip."""
        return f"Plan a trip to {city}."

    return server


@pytest.fixture
def url(serve: Any) -> str:
    return str(serve(build_server()))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with bare_client() as client:
        yield client


# -- what a request must carry ----------------------------------------------------------------


@pytest.mark.parametrize(
    "envelope",
    [
        None,
        "not an object",
        {CAPABILITIES: {}, CLIENT_INFO: {"name": "x", "version": "0"}},
        {PROTOCOL_VERSION: MODERN, CLIENT_INFO: {"name": "x", "version": "0"}},
        {PROTOCOL_VERSION: MODERN, CAPABILITIES: "sampling"},
    ],
    ids=["no-meta", "meta-not-object", "no-protocol-version", "no-capabilities", "capabilities-not-object"],
)
def test_an_incomplete_envelope_is_400_invalid_params(http: httpx.Client, url: str, envelope: Any) -> None:
    error_of(http, url, "tools/list", envelope=envelope, status=400, code=-32602)


def test_client_info_is_optional(http: httpx.Client, url: str) -> None:
    result = result_of(http, url, "tools/list", envelope={PROTOCOL_VERSION: MODERN, CAPABILITIES: {}})
    assert "add" in [tool["name"] for tool in result["tools"]]


def test_header_and_body_versions_must_agree(http: httpx.Client, url: str) -> None:
    error = error_of(http, url, "tools/list", envelope=meta("v999.0.0"), status=400, code=-32020)
    assert error["message"].strip() and "\n" not in error["message"]
    # A body that speaks 2026-07-28 without the header is refused the same way.
    error_of(http, url, "tools/list", headers={}, status=400, code=-32020)


def test_an_unsupported_version_is_400_with_what_we_speak(http: httpx.Client, url: str) -> None:
    error = error_of(
        http,
        url,
        "tools/list",
        envelope=meta("v999.0.0"),
        headers=modern_headers("tools/list", None, "v999.0.0"),
        status=400,
        code=-32022,
    )
    assert error["data"]["requested"] == "v999.0.0"
    discovered = result_of(http, url, "server/discover")
    assert MODERN in error["data"]["supported"]
    assert set(error["data"]["supported"]) <= set(discovered["supportedVersions"])


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (
            "initialize",
            {"protocolVersion": MODERN, "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}},
        ),
        ("ping", None),
        ("logging/setLevel", {"level": "info"}),
        ("resources/subscribe", {"uri": "data://config"}),
        ("resources/unsubscribe", {"uri": "data://config"}),
        ("unknown/method", None),
    ],
)
def test_legacy_only_and_unknown_methods_are_404(
    http: httpx.Client, url: str, method: str, params: dict[str, Any] | None
) -> None:
    error_of(http, url, method, params, status=404, code=-32601)


@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_are_405_under_2026(http: httpx.Client, url: str, verb: str) -> None:
    response = http.request(
        verb, url, headers={"MCP-Protocol-Version": MODERN, "Accept": "application/json, text/event-stream"}
    )
    assert response.status_code == 405, (response.status_code, response.text)
    assert "POST" in response.headers.get("allow", ""), response.headers


def test_a_notification_is_202(http: httpx.Client, url: str) -> None:
    note = rpc("notifications/cancelled", {"requestId": 7, "_meta": meta()})
    response = http.post(url, json=note, headers=modern_headers("notifications/cancelled", None))
    assert response.status_code == 202, (response.status_code, response.text)


def test_a_batch_is_400_invalid_request(http: httpx.Client, url: str) -> None:
    batch = [rpc("tools/list", {"_meta": meta()}), rpc("prompts/list", {"_meta": meta()})]
    response = http.post(url, json=batch, headers=modern_headers("tools/list", None))
    assert response.status_code == 400, (response.status_code, response.text)
    error = oracle.validate_answer(None, response.json(), MODERN, expect="error")
    assert error["code"] == -32600


def test_standard_headers_must_match_the_body(http: httpx.Client, url: str) -> None:
    params = {"name": "add", "arguments": {"a": 1, "b": 2}}
    wrong_name = {**modern_headers("tools/call", params), "Mcp-Name": "fail"}
    error_of(http, url, "tools/call", params, headers=wrong_name, status=400, code=-32020)
    wrong_method = {**modern_headers("tools/call", params), "Mcp-Method": "tools/list"}
    error_of(http, url, "tools/call", params, headers=wrong_method, status=400, code=-32020)
    no_name = {k: v for k, v in modern_headers("tools/call", params).items() if k != "Mcp-Name"}
    error_of(http, url, "tools/call", params, headers=no_name, status=400, code=-32020)


def test_a_tool_header_is_checked_against_its_argument(http: httpx.Client, url: str) -> None:
    params = {"name": "route", "arguments": {"region": "eu-west", "size": 2}}
    plain = {**modern_headers("tools/call", params), "Mcp-Param-Region": "eu-west"}
    assert result_of(http, url, "tools/call", params, headers=plain)["content"][0]["text"] == "eu-west:2"
    encoded = "=?base64?" + base64.b64encode(b"eu-west").decode() + "?="
    wrapped = {**modern_headers("tools/call", params), "Mcp-Param-Region": encoded}
    assert result_of(http, url, "tools/call", params, headers=wrapped)["content"][0]["text"] == "eu-west:2"
    other = {**modern_headers("tools/call", params), "Mcp-Param-Region": "us-east"}
    error_of(http, url, "tools/call", params, headers=other, status=400, code=-32020)
    error_of(http, url, "tools/call", params, status=400, code=-32020)  # header omitted, value in body


# -- what every answer carries ----------------------------------------------------------------


def test_every_result_has_a_result_type_and_the_server_info(http: httpx.Client, url: str) -> None:
    calls: list[tuple[str, dict[str, Any] | None]] = [
        ("server/discover", None),
        ("tools/list", None),
        ("tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}}),
        ("tools/call", {"name": "fail", "arguments": {}}),
        ("prompts/list", None),
        ("prompts/get", {"name": "plan", "arguments": {"city": "Oslo"}}),
        ("resources/list", None),
        ("resources/templates/list", None),
        ("resources/read", {"uri": "data://config"}),
        ("resources/read", {"uri": "weather://Lima/now"}),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "plan"}, "argument": COMPLETE_CITY}),
    ]  # fmt: skip
    for method, params in calls:
        result = result_of(http, url, method, params)
        assert result["resultType"] == "complete", (method, result)
        assert result["_meta"][SERVER_INFO]["name"] == "wire-judge", (method, result)
        assert result["_meta"][SERVER_INFO]["version"] == "4.5.6", (method, result)
    called = result_of(http, url, "tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}})
    assert called["content"] == [{"type": "text", "text": "42"}]
    assert called["structuredContent"] == {"result": 42}
    assert called["isError"] is False


def test_discover_says_what_the_server_is(http: httpx.Client, url: str) -> None:
    result = result_of(http, url, "server/discover")
    assert MODERN in result["supportedVersions"]
    assert result["instructions"] == "Judged by hand."
    caps = result["capabilities"]
    assert {"tools", "prompts", "resources"} <= set(caps)
    assert "logging" in caps  # per-request logLevel is honoured


def test_cacheable_results_carry_hints(http: httpx.Client, url: str) -> None:
    for method, params in [
        ("server/discover", None),
        ("tools/list", None),
        ("prompts/list", None),
        ("resources/list", None),
        ("resources/templates/list", None),
    ]:
        result = result_of(http, url, method, params)
        assert type(result["ttlMs"]) is int and result["ttlMs"] == 0, (method, result)
        assert result["cacheScope"] == "public", (method, result)  # no credentials: nothing per user
    read = result_of(http, url, "resources/read", {"uri": "data://config"})
    assert type(read["ttlMs"]) is int and read["ttlMs"] >= 0
    assert read["cacheScope"] == "private"
    called = result_of(http, url, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
    assert "ttlMs" not in called and "cacheScope" not in called


def test_list_ttl_and_private_scope_with_credentials(serve: Any, http: httpx.Client) -> None:
    url = serve(build_server(api_key="k-" + "x" * 30, list_ttl_ms=5000))
    auth = {"Authorization": "Bearer k-" + "x" * 30}
    listed = result_of(http, url, "tools/list", headers={**modern_headers("tools/list", None), **auth})
    assert (listed["ttlMs"], listed["cacheScope"]) == (5000, "private")


def test_an_unknown_resource_is_invalid_params_with_its_uri(http: httpx.Client, url: str) -> None:
    error = error_of(http, url, "resources/read", {"uri": "data://missing"}, status=400, code=-32602)
    assert error["data"]["uri"] == "data://missing"


def test_tools_list_order_is_stable(http: httpx.Client, url: str) -> None:
    orders = [[t["name"] for t in result_of(http, url, "tools/list")["tools"]] for _ in range(3)]
    assert orders[0] == ["add", "fail", "lines", "chatty", "greet", "ask_model", "route"]
    assert orders[1] == orders[0] and orders[2] == orders[0]


def test_a_missing_client_capability_is_400(http: httpx.Client, url: str) -> None:
    params = {"name": "ask_model", "arguments": {}}
    error = error_of(http, url, "tools/call", params, envelope=meta(caps={}), status=400, code=-32021)
    assert error["data"]["requiredCapabilities"] == {"sampling": {}}


def test_logs_only_for_a_request_that_asks_with_a_level(http: httpx.Client, url: str) -> None:
    params = {"name": "chatty", "arguments": {}}
    _, answer, others = send(http, url, "tools/call", params)
    oracle.validate_answer("tools/call", answer, MODERN, expect="result")
    assert not [m for m in others if m.get("method") == "notifications/message"], others
    _, answer, others = send(http, url, "tools/call", params, envelope=meta(**{LOG_LEVEL: "warning"}))
    oracle.validate_answer("tools/call", answer, MODERN, expect="result")
    logs = [oracle.validate_server_message(m, MODERN) for m in others]
    assert [(m["method"], m["params"]["level"]) for m in logs] == [("notifications/message", "warning")]
    error_of(http, url, "tools/call", params, envelope=meta(**{LOG_LEVEL: "loud"}), status=400, code=-32602)


def test_progress_streams_without_event_ids(http: httpx.Client, url: str) -> None:
    params = {"name": "lines", "arguments": {"n": 3}}
    response, answer, others = send(http, url, "tools/call", params, envelope=meta(progressToken="tok"))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert not [line for line in response.text.splitlines() if line.startswith("id:")], response.text
    result = oracle.validate_answer("tools/call", answer, MODERN, expect="result")
    assert [block["text"] for block in result["content"]] == ["line 0", "line 1", "line 2"]
    progress = [oracle.validate_server_message(m, MODERN)["params"] for m in others]
    assert [(p["progressToken"], p["progress"]) for p in progress] == [("tok", 1), ("tok", 2), ("tok", 3)]


# -- multi round-trip requests ------------------------------------------------------------------


def test_an_elicitation_round_then_the_answer(http: httpx.Client, url: str) -> None:
    params: dict[str, Any] = {"name": "greet", "arguments": {}}
    first = result_of(http, url, "tools/call", params)
    assert first["resultType"] == "input_required"
    assert "ttlMs" not in first and "cacheScope" not in first
    (key,) = first["inputRequests"]
    assert key == "name"
    asked = first["inputRequests"]["name"]
    assert asked["method"] == "elicitation/create"
    assert asked["params"]["message"] == "What is your name?"
    assert asked["params"]["requestedSchema"] == _NAME
    assert isinstance(first["requestState"], str) and first["requestState"]
    answer = {"name": {"action": "accept", "content": {"name": "Ada"}}}
    done = result_of(
        http, url, "tools/call", {**params, "inputResponses": answer, "requestState": first["requestState"]}
    )
    assert done["resultType"] == "complete"
    assert done["content"] == [{"type": "text", "text": "Hello, Ada!"}]
    # No state at all: the answer alone is enough (the tool runs again from the top).
    alone = result_of(http, url, "tools/call", {**params, "inputResponses": answer})
    assert alone["content"] == [{"type": "text", "text": "Hello, Ada!"}]


def test_a_tampered_or_misplaced_request_state_is_refused(serve: Any, http: httpx.Client) -> None:
    keys = {"alice": "a-" + "x" * 30, "bob": "b-" + "y" * 30}
    url = serve(build_server(api_keys=keys))

    def as_user(who: str, method: str, params: dict[str, Any]) -> dict[str, str]:
        return {**modern_headers(method, params), "Authorization": f"Bearer {keys[who]}"}

    params: dict[str, Any] = {"name": "greet", "arguments": {}}
    first = result_of(http, url, "tools/call", params, headers=as_user("alice", "tools/call", params))
    state = first["requestState"]
    answer = {"name": {"action": "accept", "content": {"name": "Ada"}}}

    def retry(who: str, token: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        again = {
            "name": "greet",
            "arguments": arguments or {},
            "inputResponses": answer,
            "requestState": token,
        }
        error = error_of(
            http, url, "tools/call", again, headers=as_user(who, "tools/call", again), status=400, code=-32602
        )
        assert error["data"] == {"reason": "invalid_request_state"}, error
        assert state not in error["message"]
        return error

    retry("alice", state + "-TAMPERED")
    retry("alice", state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
    retry("alice", "not a state")
    retry("bob", state)  # another principal
    retry("alice", state, {"polite": True})  # other arguments
    good = {**params, "inputResponses": answer, "requestState": state}
    done = result_of(http, url, "tools/call", good, headers=as_user("alice", "tools/call", good))
    assert done["content"] == [{"type": "text", "text": "Hello, Ada!"}]


def test_malformed_input_responses_are_refused(http: httpx.Client, url: str) -> None:
    params: dict[str, Any] = {"name": "greet", "arguments": {}}
    for bad in ([1, 2], {"name": 12345}, {"name": {"action": "maybe"}}):
        error_of(http, url, "tools/call", {**params, "inputResponses": bad}, status=400, code=-32602)


def test_lists_never_ask_for_input(http: httpx.Client, url: str) -> None:
    for method in ("tools/list", "prompts/list", "resources/list"):
        assert result_of(http, url, method)["resultType"] == "complete"


# -- the older generation on the same endpoint ----------------------------------------------------


def test_a_plain_post_is_answered_as_before(http: httpx.Client, url: str) -> None:
    """A headerless POST without ``_meta`` (curl, ChatGPT's connector) is the 2025-11-25 wire."""
    message = rpc("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}})
    response = http.post(url, json=message, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in response.headers
    version = oracle.sessionless_version("tools/call")
    result = oracle.validate_answer("tools/call", response.json(), version, request_id=message["id"])
    assert result == {
        "content": [{"type": "text", "text": "42"}],
        "structuredContent": {"result": 42},
        "isError": False,
    }
    listed = http.post(url, json=rpc("tools/list"), headers={"Content-Type": "application/json"}).json()
    assert "resultType" not in listed["result"] and "ttlMs" not in listed["result"]
    assert "_meta" not in listed["result"]


def test_both_generations_at_once(http: httpx.Client, url: str) -> None:
    """Modern and plain POSTs interleaved from threads: each gets its own generation's answer."""

    def modern(i: int) -> dict[str, Any]:
        with bare_client() as own:
            return result_of(own, url, "tools/call", {"name": "add", "arguments": {"a": i, "b": 1}})

    def plain(i: int) -> dict[str, Any]:
        with bare_client() as own:
            message = rpc("tools/call", {"name": "add", "arguments": {"a": i, "b": 2}})
            answer = own.post(url, json=message, headers={"Content-Type": "application/json"}).json()
            return dict(oracle.validate_answer("tools/call", answer, "2025-11-25", request_id=message["id"]))

    async def main() -> list[dict[str, Any]]:
        jobs = [asyncio.to_thread(modern if i % 2 else plain, i) for i in range(20)]
        return list(await asyncio.gather(*jobs))

    results = asyncio.run(main())
    for i, result in enumerate(results):
        assert result["structuredContent"] == {"result": i + (1 if i % 2 else 2)}
        assert ("resultType" in result) == bool(i % 2), result
