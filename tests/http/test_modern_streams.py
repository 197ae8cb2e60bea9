"""Protocol 2026-07-28 over a real socket: deferred SSE, ``subscriptions/listen``, cache hints, and
the same asking tools under both generations.

The server runs on 127.0.0.1 (``MCPServer.start(port=0)``); httpx speaks to it by hand. Each
2026-07-28 answer goes through ``tests.peers.oracle.validate_answer`` at that revision (the
specification's own schema). ``tests/peers/test_modern_wire.py`` covers the request checks and
the basic round; this file covers the streams and what the conformance suite does not pin.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nbmcp import Context, MCPServer
from nbmcp.protocol.envelope import (
    CLIENT_CAPABILITIES_KEY,
    PROTOCOL_VERSION_KEY,
    SERVER_INFO_KEY,
    SUBSCRIPTION_ID_KEY,
)
from tests.http.sse_client import events
from tests.peers.oracle import split_answers, validate_answer, validate_server_message
from tests.peers.peerkit import RawSession, bare_client, read_messages

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ALL_CAPS: dict[str, Any] = {"elicitation": {}, "sampling": {}, "roots": {}}
NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
KEYS = {"a": "key-a-" + "1" * 30, "b": "key-b-" + "2" * 30}
WAIT = 10.0
_ids = itertools.count(100)

ANSWER_OF: dict[str, dict[str, Any]] = {
    "elicitation/create": {"action": "accept", "content": {"name": "Ada"}},
    "sampling/createMessage": {
        "role": "assistant",
        "content": {"type": "text", "text": "forty-two"},
        "model": "judge",
    },
    "roots/list": {"roots": [{"uri": "file:///work/a", "name": "a"}]},
}


class Probe:
    """What the tools saw: counters, and events a test waits on (set from the server's threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.release = threading.Event()

    def hit(self, name: str) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1


def build(probe: Probe, **kwargs: Any) -> MCPServer:
    server = MCPServer("streams", "3.2.1", **kwargs)

    @server.tool
    def sync_greet(ctx: Context) -> str:
        """A sync tool that asks a name (key ``name``)."""
        probe.hit("sync_greet")
        reply = ctx.elicit("Your name?", NAME_SCHEMA, key="name").result(WAIT)
        return f"hello {reply['content']['name']}"

    @server.tool
    async def survey(ctx: Context) -> dict[str, Any]:
        """Three questions at once."""
        user, model, roots = await asyncio.gather(
            ctx.elicit("Your name?", NAME_SCHEMA), ctx.sample("Say hi", max_tokens=5), ctx.list_roots()
        )
        return {
            "name": user["content"]["name"],
            "said": model["content"]["text"],
            "roots": [root["uri"] for root in roots["roots"]],
        }

    @server.tool
    async def quiet(ctx: Context) -> str:
        """Takes a Context; its progress (no token) and log (no level) are dropped."""
        await ctx.report_progress(1, 2)
        await ctx.info("unheard")
        return "quiet"

    @server.tool
    async def steps(n: int, ctx: Context) -> str:
        """Progress n times."""
        for i in range(1, n + 1):
            await ctx.report_progress(i, n, f"step {i}")
        return f"{n} steps"

    @server.tool
    async def hold(ctx: Context) -> str:
        """Reports once, then waits until cancelled."""
        try:
            await ctx.report_progress(1, 2, "holding")
            probe.started.set()
            await asyncio.sleep(3600)
            return "never"
        finally:
            probe.stopped.set()

    @server.tool
    async def slow(ctx: Context) -> str:
        """Silent until released by the test."""
        released = await asyncio.to_thread(probe.release.wait, WAIT)
        return f"released {released}"

    @server.resource("data://config", mime_type="application/json")
    def config() -> dict[str, Any]:
        return {"level": 3}

    @server.resource("notes://{topic}")
    def notes(topic: str) -> str:
        return f"notes on {topic}"

    @server.prompt()
    def plan(city: str) -> str:
        """Plan a trip."""
        return f"Plan a trip to {city}."

    return server


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def url(serve: Callable[..., str], probe: Probe) -> str:
    return serve(build(probe))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with bare_client() as client:
        yield client


def request(
    method: str,
    params: dict[str, Any] | None = None,
    *,
    caps: dict[str, Any] | None = None,
    msg_id: Any = None,
    **meta: Any,
) -> dict[str, Any]:
    envelope = {PROTOCOL_VERSION_KEY: MODERN, CLIENT_CAPABILITIES_KEY: ALL_CAPS if caps is None else caps}
    body = {**(params or {}), "_meta": {**envelope, **meta}}
    return {
        "jsonrpc": "2.0",
        "id": next(_ids) if msg_id is None else msg_id,
        "method": method,
        "params": body,
    }


def headers_of(message: dict[str, Any], key: str | None = None) -> dict[str, str]:
    """The headers a 2026-07-28 client sends with ``message`` (with ``key``: an API key)."""
    method, params = message["method"], message["params"]
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    named = params.get("uri" if method == "resources/read" else "name")
    if method in ("tools/call", "prompts/get", "resources/read"):
        headers["Mcp-Name"] = str(named)
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def post(http: httpx.Client, url: str, message: dict[str, Any], key: str | None = None) -> httpx.Response:
    return http.post(url, json=message, headers=headers_of(message, key))


def answer_of(
    response: httpx.Response, message: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one answer in a response (checked by the schema) and the server messages before it."""
    answers, others = split_answers(read_messages(response))
    assert len(answers) == 1, (response.status_code, response.text)
    validate_answer(message["method"], answers[0], MODERN, request_id=message["id"])
    for other in others:
        validate_server_message(other, MODERN)
    return answers[0], others


def result_of(
    http: httpx.Client, url: str, message: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    response = post(http, url, message, key)
    answer, _ = answer_of(response, message)
    assert response.status_code == 200 and "result" in answer, (response.status_code, answer)
    result: dict[str, Any] = answer["result"]
    return result


def error_of(
    http: httpx.Client, url: str, message: dict[str, Any], key: str | None = None, *, status: int, code: int
) -> dict[str, Any]:
    response = post(http, url, message, key)
    answer, _ = answer_of(response, message)
    assert "error" in answer, answer
    assert (response.status_code, answer["error"]["code"]) == (status, code), (response.status_code, answer)
    error: dict[str, Any] = answer["error"]
    return error


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``check`` (bounded) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# -- one tool, both generations ----------------------------------------------------------------------


def test_the_same_asking_tool_serves_a_legacy_session_over_sse(url: str, probe: Probe) -> None:
    def reply(message: dict[str, Any]) -> dict[str, Any]:
        return ANSWER_OF[message["method"]]

    with bare_client() as client:
        session = RawSession(client, url, LEGACY)
        session.initialize(dict(ALL_CAPS))
        answer, seen = session.converse("tools/call", call("sync_greet"), reply)
        assert answer["result"]["content"] == [{"type": "text", "text": "hello Ada"}]
        assert [m["method"] for m in seen] == ["elicitation/create"]
        assert seen[0]["params"] == {"message": "Your name?", "requestedSchema": NAME_SCHEMA}
        assert probe.counts["sync_greet"] == 1, "no replay on the handshake wire: the tool waits"
        answer, seen = session.converse("tools/call", call("survey"), reply)
        assert sorted(m["method"] for m in seen) == [
            "elicitation/create",
            "roots/list",
            "sampling/createMessage",
        ]
        assert answer["result"]["structuredContent"] == {
            "name": "Ada",
            "said": "forty-two",
            "roots": ["file:///work/a"],
        }
        assert "resultType" not in answer["result"] and "_meta" not in answer["result"]
        assert session.close() == 200
    # The same tool on the 2026-07-28 wire: a round, then the answer (and the tool ran twice more).
    with bare_client() as http:
        first = result_of(http, url, request("tools/call", call("sync_greet")))
        assert first["resultType"] == "input_required" and list(first["inputRequests"]) == ["name"]
        retry = {
            **call("sync_greet"),
            "inputResponses": {"name": ANSWER_OF["elicitation/create"]},
            "requestState": first["requestState"],
        }
        done = result_of(http, url, request("tools/call", retry))
    assert done["content"] == [{"type": "text", "text": "hello Ada"}]
    assert probe.counts["sync_greet"] == 3


def test_round_errors_and_records_over_http(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe, api_keys=KEYS)
    url = serve(server)
    first = result_of(http, url, request("tools/call", call("sync_greet")), KEYS["a"])
    assert first["resultType"] == "input_required"
    (record,) = server.calls(tool="sync_greet")
    assert (record["ok"], record["summary"], record["principal"]) == (True, "input required: name", "a")
    state = first["requestState"]
    good = {"name": ANSWER_OF["elicitation/create"]}
    # Another caller's retry with this state: refused, as for a forged one.
    stolen = request("tools/call", {**call("sync_greet"), "inputResponses": good, "requestState": state})
    error = error_of(http, url, stolen, KEYS["b"], status=400, code=-32602)
    assert error["message"] == "Invalid or expired requestState"
    # An answer of the wrong kind for the key: the request's error (400), not a tool result.
    wrong = {"name": ANSWER_OF["sampling/createMessage"]}
    bad = request("tools/call", {**call("sync_greet"), "inputResponses": wrong, "requestState": state})
    error_of(http, url, bad, KEYS["a"], status=400, code=-32602)
    # A client without the capability: -32021 naming it, 400.
    lacking = request("tools/call", call("survey"), caps={"elicitation": {}, "roots": {}})
    error = error_of(http, url, lacking, KEYS["a"], status=400, code=-32021)
    assert error["data"] == {"requiredCapabilities": {"sampling": {}}}, error
    # The rightful retry still works.
    done = result_of(
        http,
        url,
        request("tools/call", {**call("sync_greet"), "inputResponses": good, "requestState": state}),
        KEYS["a"],
    )
    assert done["content"] == [{"type": "text", "text": "hello Ada"}]
    newest = server.calls(limit=1, tool="sync_greet")[0]
    assert (newest["ok"], newest["summary"]) == (True, "hello Ada")


# -- deferred SSE ------------------------------------------------------------------------------------


def test_a_context_tool_that_sends_nothing_answers_json(url: str, http: httpx.Client) -> None:
    message = request("tools/call", call("quiet"))
    response = post(http, url, message)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    answer, others = answer_of(response, message)
    assert others == []
    assert answer["result"]["content"] == [{"type": "text", "text": "quiet"}]


def test_progress_commits_to_an_event_stream_without_ids(url: str, http: httpx.Client) -> None:
    message = request("tools/call", call("steps", n=3), progressToken="p-1")
    response = post(http, url, message)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream"), response.headers
    assert response.headers["x-accel-buffering"] == "no"
    assert not [line for line in response.text.splitlines() if line.startswith("id:")], response.text
    messages = read_messages(response)
    answer, progress = answer_of(response, message)
    assert messages[-1] == answer, "the answer ends the stream"
    assert [(p["params"]["progressToken"], p["params"]["progress"]) for p in progress] == [
        ("p-1", 1),
        ("p-1", 2),
        ("p-1", 3),
    ]
    assert progress[0]["params"]["message"] == "step 1"
    assert answer["result"]["content"] == [{"type": "text", "text": "3 steps"}]
    assert answer["result"]["_meta"][SERVER_INFO_KEY]["name"] == "streams"


def test_a_json_only_client_gets_json_without_the_progress(url: str, http: httpx.Client) -> None:
    message = request("tools/call", call("steps", n=2), progressToken="p-2")
    response = http.post(url, json=message, headers={**headers_of(message), "Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json"), response.headers
    answer, others = answer_of(response, message)
    assert others == [] and answer["result"]["content"] == [{"type": "text", "text": "2 steps"}]


def test_closing_the_stream_cancels_the_call(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe)
    url = serve(server)
    message = request("tools/call", call("hold"), progressToken=5)
    with http.stream("POST", url, json=message, headers=headers_of(message)) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        first = next(events(response))
        assert first["data"]["method"] == "notifications/progress" and "id" not in first
        assert probe.started.wait(WAIT)
    assert probe.stopped.wait(WAIT), "closing the stream must cancel the tool"
    wait_until(lambda: bool(server.calls(tool="hold")), "the call record")
    (record,) = server.calls(tool="hold")
    assert record["ok"] is False and record["summary"] == "call cancelled", record
    assert not server.monitor.running


def test_silence_commits_to_an_event_stream(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe)
    server.config.sse_keepalive = 0.05
    url = serve(server)
    message = request("tools/call", call("slow"))
    with http.stream("POST", url, json=message, headers=headers_of(message)) as response:
        # The headers came while the tool still waits: the answer is committed to a stream.
        assert response.headers["content-type"].startswith("text/event-stream"), response.headers
        assert response.headers["x-accel-buffering"] == "no"
        probe.release.set()
        got = list(events(response))
    assert [e["data"]["result"]["content"][0]["text"] for e in got] == ["released True"]
    assert all("id" not in e for e in got)
    validate_answer("tools/call", got[0]["data"], MODERN, request_id=message["id"], expect="result")


# -- subscriptions/listen ------------------------------------------------------------------------------


@contextlib.contextmanager
def listening(
    http: httpx.Client, url: str, notifications: dict[str, Any], msg_id: Any
) -> Iterator[tuple[httpx.Response, Iterator[dict[str, Any]], dict[str, Any]]]:
    """An open listen stream: (response, its events' data, the acknowledgement's params)."""
    message = request("subscriptions/listen", {"notifications": notifications}, msg_id=msg_id)
    with http.stream("POST", url, json=message, headers=headers_of(message)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream"), response.headers
        assert response.headers["x-accel-buffering"] == "no"
        stream = (_no_id(event)["data"] for event in events(response))
        ack = validate_server_message(next(stream), MODERN)
        assert ack["method"] == "notifications/subscriptions/acknowledged", ack
        assert ack["params"]["_meta"][SUBSCRIPTION_ID_KEY] == msg_id, ack
        yield response, stream, ack["params"]["notifications"]


def _no_id(event: dict[str, Any]) -> dict[str, Any]:
    assert "id" not in event, f"2026-07-28 streams carry no event ids: {event!r}"
    return event


def tagged(message: dict[str, Any], msg_id: Any) -> dict[str, Any]:
    """A listen notification, checked by the schema and for its subscription id."""
    validate_server_message(message, MODERN)
    assert message["params"]["_meta"] == {SUBSCRIPTION_ID_KEY: msg_id}, message
    return message


def test_listen_acknowledges_what_it_honours_then_sends_list_changes(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe)
    server.info.capabilities["prompts"] = {}  # no listChanged: the server never sends it
    url = serve(server)
    wanted = {
        "toolsListChanged": True,
        "promptsListChanged": True,
        "resourcesListChanged": False,
        "resourceSubscriptions": ["data://config", "data://config"],
    }
    with listening(http, url, wanted, "listen-7") as (_, stream, agreed):
        assert agreed == {"toolsListChanged": True, "resourceSubscriptions": ["data://config"]}
        assert len(server.engine.listeners) == 1

        @server.prompt()
        def unseen() -> str:
            return "not announced here"

        @server.tool
        def added(x: int) -> int:
            return x

        changed = tagged(next(stream), "listen-7")
        assert changed["method"] == "notifications/tools/list_changed", changed
        server.notify_resource_updated("data://config")
        updated = tagged(next(stream), "listen-7")
        assert (updated["method"], updated["params"]["uri"]) == (
            "notifications/resources/updated",
            "data://config",
        )


def test_listeners_get_only_what_they_asked_for(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe)
    url = serve(server)
    with (
        listening(http, url, {"toolsListChanged": True, "resourceSubscriptions": ["notes://a"]}, 1) as (
            _,
            a,
            _x,
        ),
        bare_client() as other,
        listening(other, url, {"resourceSubscriptions": ["notes://b"]}, 2) as (_, b, _y),
    ):
        assert len(server.engine.listeners) == 2
        server.notify_resource_updated("notes://a")

        @server.tool
        def added(x: int) -> int:
            return x

        server.notify_resource_updated("notes://b")
        server.notify_resource_updated("notes://a")
        seen_a = [tagged(next(a), 1) for _ in range(3)]
        assert [(m["method"], m["params"].get("uri")) for m in seen_a] == [
            ("notifications/resources/updated", "notes://a"),
            ("notifications/tools/list_changed", None),
            ("notifications/resources/updated", "notes://a"),
        ]
        # B asked for notes://b only, and for no list changes: its first message is the b update.
        first_b = tagged(next(b), 2)
        assert (first_b["method"], first_b["params"]["uri"]) == (
            "notifications/resources/updated",
            "notes://b",
        )


def test_a_closed_listen_stream_is_unregistered(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe)
    url = serve(server)
    with listening(http, url, {"toolsListChanged": True}, "gone"):
        assert len(server.engine.listeners) == 1
    wait_until(lambda: len(server.engine.listeners) == 0, "the listener to be dropped")
    # The server still serves, and a new listener starts from nothing.
    with listening(http, url, {"toolsListChanged": True}, "again"):
        assert len(server.engine.listeners) == 1
    wait_until(lambda: len(server.engine.listeners) == 0, "the second listener to be dropped")


def test_stop_ends_a_listen_stream_with_its_result(probe: Probe, http: httpx.Client) -> None:
    server = build(probe)
    url = server.start(port=0)
    stopper = threading.Thread(target=server.stop)
    try:
        with listening(http, url, {"toolsListChanged": True}, 42) as (_, stream, _agreed):
            stopper.start()
            final = next(stream)
            result = validate_answer("subscriptions/listen", final, MODERN, request_id=42, expect="result")
            assert result["resultType"] == "complete"
            assert result["_meta"][SUBSCRIPTION_ID_KEY] == 42
            assert result["_meta"][SERVER_INFO_KEY] == {"name": "streams", "version": "3.2.1"}
            assert list(stream) == [], "the result ends the stream"
        stopper.join(WAIT)
        assert not stopper.is_alive()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"notifications": "all"},
        {"notifications": ["toolsListChanged"]},
        {"notifications": {"toolsListChanged": "yes"}},
        {"notifications": {"resourceSubscriptions": "data://config"}},
        {"notifications": {"resourceSubscriptions": [1]}},
    ],
    ids=["missing", "string", "array", "flag-not-bool", "uris-not-array", "uri-not-string"],
)
def test_a_malformed_listen_filter_is_400(url: str, http: httpx.Client, params: dict[str, Any]) -> None:
    error = error_of(http, url, request("subscriptions/listen", params), status=400, code=-32602)
    assert "notifications" in error["message"]


def test_listen_needs_an_event_stream(url: str, http: httpx.Client) -> None:
    message = request("subscriptions/listen", {"notifications": {"toolsListChanged": True}})
    response = http.post(url, json=message, headers={**headers_of(message), "Accept": "application/json"})
    assert response.status_code == 406, (response.status_code, response.text)


@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_under_2026_are_405_allow_post(url: str, http: httpx.Client, verb: str) -> None:
    response = http.request(
        verb, url, headers={"MCP-Protocol-Version": MODERN, "Accept": "text/event-stream"}
    )
    assert response.status_code == 405, (response.status_code, response.text)
    assert response.headers["allow"] == "POST"


# -- cache hints -------------------------------------------------------------------------------------------

CACHEABLE: list[tuple[str, dict[str, Any] | None]] = [
    ("server/discover", None),
    ("tools/list", None),
    ("prompts/list", None),
    ("resources/list", None),
    ("resources/templates/list", None),
]


def test_cache_hints_with_and_without_credentials(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    open_url = serve(build(probe, list_ttl_ms=5000))
    keyed_url = serve(build(Probe(), api_keys=KEYS, list_ttl_ms=5000))
    for method, params in CACHEABLE:
        public = result_of(http, open_url, request(method, params))
        assert (public["ttlMs"], public["cacheScope"], public["resultType"]) == (5000, "public", "complete")
        private = result_of(http, keyed_url, request(method, params), KEYS["b"])
        assert (private["ttlMs"], private["cacheScope"]) == (5000, "private"), (method, private)
    for base, key in ((open_url, None), (keyed_url, KEYS["a"])):
        read = result_of(http, base, request("resources/read", {"uri": "data://config"}), key)
        assert (read["ttlMs"], read["cacheScope"]) == (0, "private"), (
            "a read is never shared, never list-cached"
        )
    called = result_of(http, open_url, request("tools/call", call("quiet")))
    assert "ttlMs" not in called and "cacheScope" not in called


def test_modern_stamps_never_leak_into_legacy_answers(
    serve: Callable[..., str], probe: Probe, http: httpx.Client
) -> None:
    server = build(probe, list_ttl_ms=5000)
    url = serve(server)
    lists = [m for m, _ in CACHEABLE if m != "server/discover"]
    for _ in range(2):
        for method in lists:
            result_of(http, url, request(method))
    stamps = {"resultType", "ttlMs", "cacheScope", "_meta"}
    with bare_client() as client:
        session = RawSession(client, url, LEGACY)
        session.initialize()
        for method in lists:
            answer, _ = session.request(method)
            assert not stamps & set(answer["result"]), (method, answer)
        for method in lists:  # a plain sessionless POST (no headers) is the legacy wire too
            plain = {"jsonrpc": "2.0", "id": 1, "method": method}
            answer = client.post(url, json=plain, headers={"Content-Type": "application/json"}).json()
            assert not stamps & set(answer["result"]), (method, answer)
    registry = server.registry
    for cached in (
        registry.list_tools(MODERN),
        registry.list_prompts(MODERN),
        registry.list_resources(MODERN),
        registry.list_resource_templates(MODERN),
    ):
        assert not stamps & set(cached), cached
