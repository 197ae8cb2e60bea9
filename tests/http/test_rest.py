"""The REST facade (``POST /tools/{name}``) and ``GET /openapi.json``, on a live server.

Every operation of the served schema is called as the schema describes it and must answer
the tool's result, matching its documented response schema; the error statuses, the API
key, the Host guard, the body limit and the monitor behave as for ``/mcp``; the schema
follows the registry at once; the hand-written JSON-RPC envelope to ``/mcp`` keeps working.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml

from nbmcp import MCPServer
from nbmcp.http.runner import BackgroundServer
from tests.openapi.oas import check_body, operations, resolve, response_schema
from tests.openapi.sample_tools import EXAMPLES, build_server
from tests.peers import oracle

pytestmark = pytest.mark.timeout(120)

Serve = Callable[..., str]
UA = {"User-Agent": "nbmcp-test"}


def base_of(url: str) -> str:
    return url.removesuffix("/mcp")


def mcp_answer(response: httpx.Response, method: str, request_id: Any, headers: Any = None) -> Any:
    """The result of a sessionless ``/mcp`` POST's answer, judged by the oracle."""
    assert response.status_code == 200, response.text
    answer = response.json()
    version = oracle.sessionless_version(method, headers, answer)
    return oracle.validate_answer(method, answer, version, request_id=request_id, expect="result")


def mcp_call(base: str, name: str, arguments: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = httpx.post(f"{base}/mcp", json=body, headers=headers or {})
    return mcp_answer(response, "tools/call", 7, headers)


@pytest.mark.parametrize("version", ["3.1.0", "3.0"])
def test_every_operation_called_as_described_returns_the_tools_result(serve: Serve, version: str) -> None:
    base = base_of(serve(build_server()))
    doc = httpx.get(f"{base}/openapi.json", params={"openapi": version}).json()
    server_url = doc["servers"][0]["url"]
    assert server_url == base
    seen = set()
    for method, path, op in operations(doc):
        name = path.removeprefix("/tools/")
        arguments, expected = EXAMPLES[name]
        seen.add(name)
        kwargs: dict[str, Any] = {"headers": UA}
        if "requestBody" in op:
            body_schema = op["requestBody"]["content"]["application/json"]["schema"]
            check_body(doc, body_schema, arguments)  # the example fits what the schema asks for
            kwargs["json"] = arguments
        else:
            assert arguments is None, f"{name} takes arguments but documents no body"
        response = httpx.request(method.upper(), server_url + path, **kwargs)
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        check_body(doc, response_schema(doc, op, response.status_code), body)
        if expected is None:
            assert response.status_code == 400, body
            assert body["type"] == "tool_error" and body["tool"] == name and "refused: tired" in body["error"]
            continue
        assert response.status_code == 200, body
        assert body == expected, name
        # ... and it is the same result an MCP client gets for the same call.
        result = mcp_call(base, name, arguments or {}, UA)
        assert result["isError"] is False
        ok_schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        if ok_schema.get("$ref", "").endswith("/ToolOutput"):  # no return type: text, data, media
            assert body.get("data") == result.get("structuredContent"), name
            texts = [b["text"] for b in result["content"] if b["type"] == "text"]
            assert body.get("text", "") in ("\n".join(texts), ""), name
        else:  # a declared return type: the structured result itself
            assert body == result["structuredContent"], name
    assert seen == set(EXAMPLES)


def test_status_codes_and_error_bodies(serve: Serve) -> None:
    base = base_of(serve(build_server()))
    # unknown tool: 404, and the message says what exists
    r = httpx.post(f"{base}/tools/nope", json={})
    assert r.status_code == 404
    assert r.json()["type"] == "unknown_tool" and "add" in r.json()["error"]
    # arguments that do not fit: 422 with one detail per problem
    r = httpx.post(f"{base}/tools/add", json={"a": "many"})
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "invalid_arguments" and body["tool"] == "add"
    assert {tuple(d["loc"]) for d in body["detail"]} == {("a",), ("b",)}
    assert {d["type"] for d in body["detail"]} == {"int_parsing", "missing"}
    r = httpx.post(f"{base}/tools/greet", json={"name": "x", "punctuation": "~"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["punctuation"]
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2, "c": 3})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "extra_forbidden"
    # a body that is not an object of arguments: 422 too
    r = httpx.post(f"{base}/tools/add", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON object" in r.json()["error"]
    r = httpx.post(f"{base}/tools/add", content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]
    # the tool raised: 400 with its message
    r = httpx.post(f"{base}/tools/refuse", json={"reason": "busy"})
    assert r.status_code == 400
    assert r.json() == {"error": "refused: busy", "type": "tool_error", "tool": "refuse"}
    # no body at all is an empty arguments object (what ChatGPT sends for a tool without arguments)
    r = httpx.post(f"{base}/tools/today")
    assert r.status_code == 200 and r.json() == {"date": "2026-01-02"}
    r = httpx.post(f"{base}/tools/add")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "missing"
    # transport refusals, as /mcp: wrong method, not JSON, too large
    r = httpx.get(f"{base}/tools/add")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = httpx.post(f"{base}/tools/add", content=b"a=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    big = b'{"a": 1, "b": 2, "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    r = httpx.post(f"{base}/tools/add", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["type"] == "payload_too_large"


def test_a_rest_call_takes_the_mcp_path(serve: Serve) -> None:
    server = MCPServer("same-path", tool_timeout=0.5)

    @server.tool
    def echo_agent(word: str) -> dict[str, Any]:
        """Echo the word."""
        return {"word": word}

    slept = threading.Event()

    @server.tool
    def slow() -> str:
        """Sleeps past the timeout."""
        time.sleep(3)
        slept.set()
        return "late"

    @server.tool
    async def broken(x: int) -> int:
        """Raises."""
        raise RuntimeError(f"bad {x}")

    events: list[Any] = []
    server.monitor.subscribe(events.append)
    base = base_of(serve(server))
    assert httpx.post(f"{base}/tools/echo_agent", json={"word": "hi"}).json() == {"word": "hi"}
    r = httpx.post(f"{base}/tools/slow", timeout=10)
    assert r.status_code == 400 and "timed out after 0.5 s" in r.json()["error"]
    assert not slept.is_set(), "the timeout was answered only once the 3 s tool had finished"
    r = httpx.post(f"{base}/tools/broken", json={"x": 3})
    assert r.status_code == 400 and r.json()["error"] == "RuntimeError: bad 3"
    r = httpx.post(f"{base}/tools/broken", json={"x": "three"})
    assert r.status_code == 422
    deadline = time.monotonic() + 5
    while len(events) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(e.tool, e.ok, e.session_id) for e in events] == [
        ("echo_agent", True, None),
        ("slow", False, None),
        ("broken", False, None),
        ("broken", False, None),
    ]
    assert events[0].arguments == {"word": "hi"}
    assert server.monitor.stats["broken"].errors == 2


def test_masked_errors_and_context_headers(serve: Serve) -> None:
    server = MCPServer("masked", mask_error_details=True)

    @server.tool
    def secret() -> str:
        """Fails with a detail that must not leak."""
        raise ValueError("password=hunter2")

    base = base_of(serve(build_server()))
    assert httpx.post(f"{base}/tools/whoami", headers=UA).json() == {"agent": "nbmcp-test", "session": None}
    masked = base_of(serve(server))
    r = httpx.post(f"{masked}/tools/secret")
    assert (
        r.status_code == 400
        and "hunter2" not in r.text
        and r.json()["error"] == "Error calling tool 'secret'"
    )


def test_api_key_guards_the_facade_and_the_schema(serve: Serve) -> None:
    key = "rest-key-5Gv7"
    base = base_of(serve(build_server(api_key=key, protect_schema=True)))
    for method, path in (
        ("POST", "/tools/add"),
        ("GET", "/openapi.json"),
        ("GET", "/openapi.yaml"),
        ("GET", "/docs"),
    ):
        r = httpx.request(method, base + path, json={"a": 1, "b": 2} if method == "POST" else None)
        assert r.status_code == 401, path
        assert "www-authenticate" in r.headers
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"X-API-Key": "wrong"})
    assert r.status_code == 401 and r.json()["type"] == "unauthorized" and key not in r.text
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"X-API-Key": key})
    assert r.status_code == 200 and r.json() == {"result": 3}
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json() == {"result": 3}
    doc = httpx.get(f"{base}/openapi.json", headers={"X-API-Key": key}).json()
    assert doc["components"]["securitySchemes"] == {
        "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    }
    assert doc["security"] == [{"ApiKeyAuth": []}]
    op = doc["paths"]["/tools/add"]["post"]
    check_body(
        doc, response_schema(doc, op, 401), {"error": "Unauthorized: missing API key", "type": "unauthorized"}
    )
    bearer = httpx.get(f"{base}/openapi.json", params={"auth": "bearer"}, headers={"X-API-Key": key}).json()
    assert bearer["components"]["securitySchemes"] == {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    assert key not in httpx.get(f"{base}/openapi.json", headers={"X-API-Key": key}).text


def test_host_and_origin_guard(serve: Serve) -> None:
    base = base_of(serve(build_server()))
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"Host": "evil.example"})
    assert r.status_code == 421 and r.json()["type"] == "misdirected"
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["type"] == "forbidden"
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200


def test_schema_follows_the_registry_at_once(serve: Serve) -> None:
    server = build_server()
    base = base_of(serve(server))

    def doc(**params: str) -> dict[str, Any]:
        response = httpx.get(f"{base}/openapi.json", params=params)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        return response.json()  # type: ignore[no-any-return]

    before = doc()
    assert "/tools/late" not in before["paths"]

    @server.tool(read_only=True)
    def late(n: int) -> int:
        """Added after start."""
        return n + 1

    after = doc()
    assert after["paths"]["/tools/late"]["post"]["summary"] == "Added after start."
    assert after["paths"]["/tools/late"]["post"]["x-openai-isConsequential"] is False
    assert httpx.post(f"{base}/tools/late", json={"n": 1}).json() == {"result": 2}
    envelope = doc(envelope="1")
    params = envelope["paths"]["/mcp"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "late" in params["properties"]["params"]["properties"]["name"]["enum"]

    def late_again(n: int, m: int = 0) -> int:
        """Re-registered with a second argument."""
        return n + m

    server.add_tool(late_again, name="late", replace=True)
    replaced = doc()["paths"]["/tools/late"]["post"]
    assert replaced["summary"] == "Re-registered with a second argument."
    assert "m" in replaced["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "x-openai-isConsequential" not in replaced
    assert httpx.post(f"{base}/tools/late", json={"n": 1, "m": 5}).json() == {"result": 6}
    server.remove_tool("late")
    assert "/tools/late" not in doc()["paths"]
    assert httpx.post(f"{base}/tools/late", json={"n": 1}).status_code == 404


def test_schema_variants_and_server_url(serve: Serve) -> None:
    server = build_server()
    base = base_of(serve(server))
    assert httpx.get(f"{base}/openapi.json").json()["openapi"] == "3.1.0"
    assert httpx.get(f"{base}/openapi.json", params={"openapi": "3.0"}).json()["openapi"] == "3.0.3"
    r = httpx.get(f"{base}/openapi.yaml")
    assert r.headers["content-type"] == "application/yaml"
    assert yaml.safe_load(r.text) == httpx.get(f"{base}/openapi.json").json()
    r = httpx.get(f"{base}/openapi.json", params={"openapi": "2.0"})
    assert r.status_code == 400 and "3.1" in r.json()["error"]
    assert httpx.head(f"{base}/openapi.json").status_code == 200
    assert httpx.post(f"{base}/openapi.json").status_code == 405
    # the public URL, once set (a tunnel does), replaces the local one, and its Host is let in
    server.public_url = "https://tools.example.com"
    doc = httpx.get(f"{base}/openapi.json").json()
    assert doc["servers"] == [{"url": "https://tools.example.com"}]
    r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers={"Host": "tools.example.com"})
    assert r.status_code == 200
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text and "swagger" in docs.text.lower()


def test_the_seed_json_rpc_envelope_to_mcp_keeps_working(serve: Serve) -> None:
    base = base_of(serve(build_server()))
    # exactly what the hand-written schemas post: only Content-Type, no session, no Accept
    r = httpx.post(
        f"{base}/mcp",
        content=b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}',
        headers={"Content-Type": "application/json"},
    )
    assert r.headers["content-type"] == "application/json"
    assert mcp_answer(r, "tools/call", 1)["structuredContent"] == {"result": 5}
    # and as the generated envelope schema describes it
    doc = httpx.get(f"{base}/openapi.json", params={"envelope": "1"}).json()
    ((method, path, op),) = list(operations(doc))
    assert (method, path, op["operationId"]) == ("post", "/mcp", "callMCPTool")
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    names = schema["properties"]["params"]["properties"]["name"]["enum"]
    assert set(names) == set(EXAMPLES)
    for name in ("add", "greet", "refuse"):
        arguments = EXAMPLES[name][0] or {}
        body = {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        check_body(doc, schema, body)
        r = httpx.post(doc["servers"][0]["url"] + path, json=body)
        result = mcp_answer(r, "tools/call", 9)
        check_body(doc, response_schema(doc, op, 200), r.json())
        assert result["isError"] is (name == "refuse")


def test_the_app_without_the_fast_lane_serves_the_same(serve: Serve) -> None:
    """``server.app`` mounted elsewhere (no FastLane) routes /tools and /openapi.json too."""
    server = build_server()
    background = BackgroundServer(server.app, "127.0.0.1", 0, on_loop=lambda loop: None)
    background.start()
    try:
        base = f"http://127.0.0.1:{background.port}"
        assert httpx.post(f"{base}/tools/add", json={"a": 4, "b": 5}).json() == {"result": 9}
        assert httpx.post(f"{base}/tools/nope", json={}).status_code == 404
        doc = httpx.get(f"{base}/openapi.json").json()
        assert doc["servers"][0]["url"] == base and "/tools/add" in doc["paths"]
        r = httpx.post(f"{base}/tools/add", json={"a": 1, "b": 2}, headers={"Host": "evil.example"})
        assert r.status_code == 421
    finally:
        background.stop()
    assert resolve(doc, {"$ref": "#/components/schemas/Error"})["required"] == ["error"]


def test_concurrent_rest_calls(serve: Serve) -> None:
    base = base_of(serve(build_server()))

    async def run() -> list[Any]:
        async with httpx.AsyncClient(base_url=base) as client:
            calls = [client.post("/tools/add", json={"a": i, "b": 1000}) for i in range(200)]
            return [r.json() for r in await asyncio.gather(*calls)]

    assert asyncio.run(run()) == [{"result": i + 1000} for i in range(200)]


def test_tool_names_that_look_like_other_routes(serve: Serve) -> None:
    server = MCPServer("lookalikes")

    @server.tool(name="openapi.json")
    def schema_named() -> str:
        """A tool whose name is a route's."""
        return "a tool, not the schema"

    @server.tool(name="v1.get-item_2")
    def dotted(item: int) -> int:
        """Dots and dashes: valid MCP names."""
        return item

    base = base_of(serve(server))
    assert httpx.post(f"{base}/tools/openapi.json").json() == {"text": "a tool, not the schema"}
    assert httpx.post(f"{base}/tools/v1.get-item_2", json={"item": 4}).json() == {"result": 4}
    assert httpx.post(f"{base}/tools/v1.get-item_2/", json={"item": 5}).json() == {"result": 5}
    doc = httpx.get(f"{base}/openapi.json").json()
    assert doc["paths"]["/tools/openapi.json"]["post"]["operationId"] == "openapi_json"
    assert doc["paths"]["/tools/v1.get-item_2"]["post"]["operationId"] == "v1_get-item_2"
    assert httpx.post(f"{base}/tools/", json={}).status_code == 404
