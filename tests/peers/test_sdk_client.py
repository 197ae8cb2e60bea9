"""nbmcp judged by the official MCP Python SDK (mcp 2.3.0) over real Streamable HTTP.

The SDK validates every result against the negotiated revision's wire models, so a call
that returns here returned a well-formed answer. ``Client`` (``mode="auto"``) adopts
2026-07-28 through ``server/discover``; its exchanges are recorded on the wire and every
2026-07-28 answer is judged again by :mod:`oracle` (the spec's own schema). The low-level
``ClientSession`` and ``mode="legacy"`` speak 2025-11-25 to the same server. The raw-HTTP
tests at the end speak each handshake-era revision by hand and check every answer with
:mod:`oracle`.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from pydantic import BaseModel

from nbmcp import Context, MCPServer, ToolError, assistant, user
from tests.peers import oracle
from tests.peers.peerkit import RawSession, bare_client, read_messages, rpc

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]

WAIT = 15.0  # seconds any single wait in these tests may take


class Reading(BaseModel):
    city: str
    celsius: float


def build_server(**kwargs: Any) -> MCPServer:
    server = MCPServer(
        "sdk-judge",
        version="1.2.3",
        instructions="Test server for the SDK client.",
        **kwargs,
    )

    @server.tool(read_only=True, title="Add two numbers")
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool
    def reading(city: str) -> Reading:
        """A structured result."""
        return Reading(city=city, celsius=21.5)

    @server.tool
    async def shout(text: str) -> str:
        """Async tool."""
        await asyncio.sleep(0)
        return text.upper()

    @server.tool
    def countdown(n: int):  # type: ignore[no-untyped-def]
        """Generator tool: one chunk per step."""
        for i in range(n, 0, -1):
            yield f"t-{i}"

    @server.tool
    async def async_chunks(n: int):  # type: ignore[no-untyped-def]
        """Async generator tool."""
        for i in range(n):
            await asyncio.sleep(0)
            yield f"chunk {i}"

    @server.tool
    async def steps(n: int, ctx: Context) -> str:
        """Reports progress with messages."""
        for i in range(1, n + 1):
            await ctx.report_progress(i, n, f"step {i} of {n}")
        return f"did {n} steps"

    @server.tool
    def fail(reason: str) -> str:
        """Always fails with a ToolError."""
        raise ToolError(f"refused: {reason}")

    @server.tool
    def crash() -> str:
        """Fails with an unexpected exception."""
        raise ValueError("the flux capacitor broke")

    @server.tool
    async def chatty(ctx: Context) -> str:
        """Logs at several levels."""
        await ctx.log("debug", "debug detail")
        await ctx.log("info", "info message", logger="chatty")
        await ctx.log("warning", {"disk": "almost full"})
        await ctx.log("error", "an error line")
        return "logged"

    @server.tool
    async def ask_model(question: str, ctx: Context) -> str:
        """Sampling round trip."""
        reply = await ctx.sample(question, max_tokens=50, system_prompt="be brief", timeout=WAIT)
        return f"model said: {reply['content']['text']} ({reply['model']})"

    @server.tool
    async def ask_user(ctx: Context) -> dict[str, Any]:
        """Elicitation round trip."""
        answer = await ctx.elicit(
            "Who are you?",
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name"],
            },
            timeout=WAIT,
        )
        return {"action": answer["action"], "content": answer.get("content")}

    @server.tool
    def whoami(ctx: Context) -> str:
        """Reads a request header from a sync tool."""
        return ctx.headers.get("x-user-id", "anonymous")

    @server.resource("data://config", mime_type="application/json", description="Static config")
    def config() -> dict[str, Any]:
        return {"debug": False, "level": 3}

    @server.resource("text://motd")
    def motd() -> str:
        return "hello from nbmcp"

    @server.resource("weather://{city}/current", description="Weather in a city")
    def city_weather(city: str) -> dict[str, Any]:
        return {"city": city, "celsius": 18.5}

    @server.prompt()
    def plan_trip(city: str, days: str = "3") -> str:
        """Plan a trip."""
        return f"Plan {days} days in {city}."

    @server.prompt(title="A short dialogue")
    def dialogue(topic: str) -> list[dict[str, Any]]:
        """Two messages."""
        return [user(f"Tell me about {topic}."), assistant(f"{topic} is interesting.")]

    return server


def run(fn: Callable[[], Awaitable[None]], timeout: float = 90.0) -> None:
    async def bounded() -> None:
        with anyio.fail_after(timeout):
            await fn()

    anyio.run(bounded)


def text_of(result: types.CallToolResult) -> str:
    assert result.content, result
    block = result.content[0]
    assert isinstance(block, types.TextContent), block
    return block.text


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Bounded polling (the one kind of waiting these tests allow)."""
    with anyio.move_on_after(timeout):
        while not predicate():
            await anyio.sleep(0.02)
    assert predicate(), f"timed out after {timeout} s waiting for {what}"


@pytest.fixture
def url(serve: Any) -> str:
    return str(serve(build_server()))


# -- the SDK's low-level ClientSession -------------------------------------------------------


def test_initialize_and_list(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25"
            assert init.server_info.name == "sdk-judge"
            assert init.server_info.version == "1.2.3"
            assert init.instructions == "Test server for the SDK client."
            caps = init.capabilities
            assert caps.tools is not None and caps.tools.list_changed
            assert caps.resources is not None and caps.prompts is not None and caps.logging is not None

            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert {"add", "shout", "countdown", "async_chunks", "steps", "fail", "ask_model"} <= set(tools)
            add = tools["add"]
            assert add.title == "Add two numbers"
            assert add.description == "Add two integers."
            assert add.input_schema["type"] == "object"
            assert add.input_schema["required"] == ["a", "b"]
            assert add.annotations is not None and add.annotations.read_only_hint is True
            assert tools["reading"].output_schema is not None
            # Context parameters are not arguments.
            assert "ctx" not in tools["steps"].input_schema["properties"]

    run(main)


def test_call_sync_async_and_structured(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()  # lets the SDK validate structured results against outputSchema

            result = await session.call_tool("add", {"a": 2, "b": 40})
            assert not result.is_error
            assert text_of(result) == "42"
            assert result.structured_content == {"result": 42}

            result = await session.call_tool("shout", {"text": "hello"})
            assert not result.is_error and text_of(result) == "HELLO"

            result = await session.call_tool("reading", {"city": "Oslo"})
            assert result.structured_content == {"city": "Oslo", "celsius": 21.5}

    run(main)


def test_generator_tools_report_each_chunk_as_progress(url: str) -> None:
    async def main() -> None:
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("countdown", {"n": 3}, progress_callback=on_progress)
            assert not result.is_error
            assert [text_of_block(b) for b in result.content] == ["t-3", "t-2", "t-1"]
            assert [m for _, _, m in seen] == ["t-3", "t-2", "t-1"]
            progresses = [p for p, _, _ in seen]
            assert progresses == sorted(progresses) and len(set(progresses)) == 3, "progress must increase"

            seen.clear()
            result = await session.call_tool("async_chunks", {"n": 4}, progress_callback=on_progress)
            assert [text_of_block(b) for b in result.content] == [f"chunk {i}" for i in range(4)]
            assert [m for _, _, m in seen] == [f"chunk {i}" for i in range(4)]

            seen.clear()
            result = await session.call_tool("steps", {"n": 3}, progress_callback=on_progress)
            assert text_of(result) == "did 3 steps"
            assert seen == [(1, 3, "step 1 of 3"), (2, 3, "step 2 of 3"), (3, 3, "step 3 of 3")]

    run(main)


def text_of_block(block: Any) -> str:
    assert isinstance(block, types.TextContent), block
    return block.text


def test_failing_tools_are_error_results(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("fail", {"reason": "no fuel"})
            assert result.is_error is True
            assert "refused: no fuel" in text_of(result)

            result = await session.call_tool("crash", {})
            assert result.is_error is True
            assert "the flux capacitor broke" in text_of(result)

            # Invalid arguments are a tool execution error the model can read (2025-11-25).
            result = await session.call_tool("add", {"a": "seven"})
            assert result.is_error is True
            message = text_of(result)
            assert "a" in message and "b" in message, message

            # An unknown tool is a protocol error.
            with pytest.raises(MCPError) as info:
                await session.call_tool("no_such_tool", {})
            assert info.value.error.code == types.INVALID_PARAMS

    run(main)


def test_resources(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            listed = {str(r.uri): r for r in (await session.list_resources()).resources}
            assert set(listed) == {"data://config", "text://motd"}
            assert listed["data://config"].mime_type == "application/json"
            assert listed["data://config"].description == "Static config"

            templates = (await session.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["weather://{city}/current"]

            contents = (await session.read_resource("text://motd")).contents
            assert len(contents) == 1 and isinstance(contents[0], types.TextResourceContents)
            assert contents[0].text == "hello from nbmcp"
            assert str(contents[0].uri) == "text://motd"

            contents = (await session.read_resource("data://config")).contents
            assert isinstance(contents[0], types.TextResourceContents)
            assert contents[0].mime_type == "application/json"
            assert '"level":3' in contents[0].text.replace(" ", "")

            contents = (await session.read_resource("weather://Lima/current")).contents
            assert isinstance(contents[0], types.TextResourceContents)
            assert "Lima" in contents[0].text and str(contents[0].uri) == "weather://Lima/current"

            with pytest.raises(MCPError):
                await session.read_resource("data://missing")

    run(main)


def test_prompts(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            prompts = {p.name: p for p in (await session.list_prompts()).prompts}
            assert set(prompts) == {"plan_trip", "dialogue"}
            args = {a.name: a for a in prompts["plan_trip"].arguments or []}
            assert args["city"].required is True
            assert not args["days"].required
            assert prompts["dialogue"].title == "A short dialogue"

            got = await session.get_prompt("plan_trip", {"city": "Kyoto"})
            assert len(got.messages) == 1 and got.messages[0].role == "user"
            assert isinstance(got.messages[0].content, types.TextContent)
            assert got.messages[0].content.text == "Plan 3 days in Kyoto."

            got = await session.get_prompt("dialogue", {"topic": "tea"})
            assert [m.role for m in got.messages] == ["user", "assistant"]

            with pytest.raises(MCPError) as info:
                await session.get_prompt("no_such_prompt", {})
            assert info.value.error.code == types.INVALID_PARAMS

    run(main)


def test_logging_notifications(url: str) -> None:
    async def main() -> None:
        logs: list[types.LoggingMessageNotificationParams] = []

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            logs.append(params)

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, logging_callback=on_log) as session,
        ):
            await session.initialize()
            assert text_of(await session.call_tool("chatty", {})) == "logged"
            assert [(entry.level, entry.data) for entry in logs] == [
                ("debug", "debug detail"),
                ("info", "info message"),
                ("warning", {"disk": "almost full"}),
                ("error", "an error line"),
            ]
            assert logs[1].logger == "chatty"

            logs.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)  # deprecated only as of 2026-07-28
                await session.set_logging_level("warning")
            await session.call_tool("chatty", {})
            assert [entry.level for entry in logs] == ["warning", "error"]

    run(main)


def test_sampling_round_trip(url: str) -> None:
    async def main() -> None:
        asked: list[types.CreateMessageRequestParams] = []

        async def sampler(
            context: Any, params: types.CreateMessageRequestParams
        ) -> types.CreateMessageResult:
            asked.append(params)
            return types.CreateMessageResult(
                role="assistant",
                content=types.TextContent(type="text", text="forty-two"),
                model="judge-model",
                stop_reason="endTurn",
            )

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, sampling_callback=sampler) as session,
        ):
            await session.initialize()
            result = await session.call_tool("ask_model", {"question": "meaning of life?"})
            assert not result.is_error, result
            assert text_of(result) == "model said: forty-two (judge-model)"
            assert len(asked) == 1
            params = asked[0]
            assert params.max_tokens == 50
            assert params.system_prompt == "be brief"
            assert params.messages[0].role == "user"
            content = params.messages[0].content
            assert isinstance(content, types.TextContent) and content.text == "meaning of life?"

    run(main)


def test_elicitation_round_trip(url: str) -> None:
    async def main() -> None:
        asked: list[Any] = []

        async def elicitor(context: Any, params: Any) -> types.ElicitResult:
            asked.append(params)
            return types.ElicitResult(action="accept", content={"name": "Ada", "age": 36})

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, elicitation_callback=elicitor) as session,
        ):
            await session.initialize()
            result = await session.call_tool("ask_user", {})
            assert not result.is_error, result
            assert result.structured_content == {"action": "accept", "content": {"name": "Ada", "age": 36}}
            assert len(asked) == 1
            assert asked[0].message == "Who are you?"
            assert asked[0].requested_schema["properties"]["name"] == {"type": "string"}

        async def decliner(context: Any, params: Any) -> types.ElicitResult:
            return types.ElicitResult(action="decline")

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, elicitation_callback=decliner) as session,
        ):
            await session.initialize()
            result = await session.call_tool("ask_user", {})
            assert result.structured_content == {"action": "decline", "content": None}

    run(main)


def test_many_calls_in_one_session(url: str) -> None:
    async def main() -> None:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for i in range(200):
                result = await session.call_tool("add", {"a": i, "b": 1000})
                assert result.structured_content == {"result": i + 1000}, (i, result)

            results: dict[int, Any] = {}

            async def one(i: int) -> None:
                results[i] = await session.call_tool("add", {"a": i, "b": -i})

            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(one, i)
            assert all(results[i].structured_content == {"result": 0} for i in range(50))

    run(main)


def test_tools_list_changed_while_connected(serve: Any) -> None:
    server = build_server()
    url = serve(server)

    async def main() -> None:
        notes: list[Any] = []

        async def on_message(message: Any) -> None:
            if isinstance(message, Exception):
                raise message
            notes.append(message)

        def changed() -> int:
            return sum(isinstance(m, types.ToolListChangedNotification) for m in notes)

        async with (
            streamable_http_client(url) as (read, write),
            ClientSession(read, write, message_handler=on_message) as session,
        ):
            await session.initialize()
            before = {t.name for t in (await session.list_tools()).tools}
            assert "late" not in before

            def late(x: int) -> int:
                """Added while a client is connected."""
                return x * 2

            server.add_tool(late)
            await wait_until(lambda: changed() >= 1, "notifications/tools/list_changed after add_tool")
            after = {t.name for t in (await session.list_tools()).tools}
            assert after == before | {"late"}
            assert (await session.call_tool("late", {"x": 21})).structured_content == {"result": 42}

            server.remove_tool("late")
            await wait_until(lambda: changed() >= 2, "notifications/tools/list_changed after remove_tool")
            assert {t.name for t in (await session.list_tools()).tools} == before
            with pytest.raises(MCPError):
                await session.call_tool("late", {"x": 1})

    run(main)


def test_request_headers_reach_context(url: str) -> None:
    async def main() -> None:
        async with (
            httpx2.AsyncClient(headers={"X-User-Id": "user-77"}, timeout=WAIT) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            assert text_of(await session.call_tool("whoami", {})) == "user-77"
        async with Client(url) as client:
            assert text_of(await client.call_tool("whoami", {})) == "anonymous"

    run(main)


# -- the SDK's high-level Client: mode='auto' probes server/discover and adopts 2026-07-28 ------

MODERN = "2026-07-28"


@dataclass
class Recorded:
    """One HTTP exchange the SDK client made, as it went over the wire."""

    verb: str
    headers: dict[str, str]  # the request's, lower-cased names
    sent: Any  # the decoded request body (None for GET/DELETE)
    status: int
    content_type: str
    body: bytearray  # the response body, as far as it was read

    def messages(self) -> list[Any]:
        """The JSON-RPC messages of the response: one JSON value, or the events of an SSE stream."""
        text = bytes(self.body).decode()
        if not text.strip():
            return []
        if self.content_type.startswith("application/json"):
            return [json.loads(text)]
        found = []
        for block in text.replace("\r\n", "\n").split("\n\n"):
            data = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
            if data and "".join(data).strip():
                found.append(json.loads("\n".join(data)))
        return found


class _Tee(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, sink: bytearray) -> None:
        self._inner = inner
        self._sink = sink

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._sink.extend(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class Recorder(httpx2.AsyncBaseTransport):
    """The real HTTP transport, keeping a copy of every request and response body."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.exchanges: list[Recorded] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        response = await self._inner.handle_async_request(request)
        record = Recorded(
            request.method,
            {name.lower(): value for name, value in request.headers.items()},
            json.loads(content) if content else None,
            response.status_code,
            response.headers.get("content-type", ""),
            bytearray(),
        )
        self.exchanges.append(record)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, record.body),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()

    def modern(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """``(request, answer)`` of every 2026-07-28 request, each answer judged by the oracle.

        Every answer must carry its request's id and fit the 2026-07-28 schema; every other
        message on its stream must be a notification the server may send under 2026-07-28.
        """
        judged = []
        for record in self.exchanges:
            if record.headers.get("mcp-protocol-version") != MODERN or not isinstance(record.sent, dict):
                continue
            assert record.verb == "POST", record
            assert "mcp-session-id" not in record.headers, "a 2026-07-28 request belongs to no session"
            sent = record.sent
            assert sent["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == MODERN
            if "id" not in sent:
                continue
            answers, others = oracle.split_answers(record.messages())
            assert len(answers) == 1, (sent, record.messages())
            oracle.validate_answer(sent["method"], answers[0], MODERN, request_id=sent["id"])
            for other in others:
                assert "id" not in other, f"a server request on a 2026-07-28 stream: {other!r}"
                oracle.validate_server_message(other, MODERN)
            judged.append((sent, answers[0]))
        return judged

    def calls_of(self, tool: str) -> list[dict[str, Any]]:
        """The results of the 2026-07-28 ``tools/call`` rounds of ``tool``, in order."""
        return [
            answer["result"]
            for sent, answer in self.modern()
            if sent["method"] == "tools/call" and sent["params"]["name"] == tool and "result" in answer
        ]


@asynccontextmanager
async def recorded_client(url: str, recorder: Recorder, **options: Any) -> AsyncIterator[Client]:
    """``Client`` over Streamable HTTP whose every exchange ``recorder`` keeps."""
    async with (
        httpx2.AsyncClient(transport=recorder, timeout=WAIT) as http,
        Client(streamable_http_client(url, http_client=http), **options) as client,
    ):
        yield client


def test_client_default_negotiation(url: str) -> None:
    recorder = Recorder()

    async def main() -> None:
        async with recorded_client(url, recorder) as client:
            assert client.protocol_version == MODERN
            discovered = client.session.discover_result
            assert discovered is not None and MODERN in discovered.supported_versions
            assert client.session.initialize_result is None
            assert client.server_info is not None
            assert (client.server_info.name, client.server_info.version) == ("sdk-judge", "1.2.3")
            assert client.instructions == "Test server for the SDK client."
            caps = client.server_capabilities
            assert caps.tools is not None and caps.prompts is not None and caps.resources is not None
            result = await client.call_tool("add", {"a": 20, "b": 22})
            assert result.structured_content == {"result": 42}
            names = {t.name for t in (await client.list_tools()).tools}
            assert "countdown" in names
            seen: list[str | None] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append(message)

            result = await client.call_tool("countdown", {"n": 2}, progress_callback=on_progress)
            assert seen == ["t-2", "t-1"]
            got = await client.get_prompt("plan_trip", {"city": "Kyoto"})
            assert isinstance(got.messages[0].content, types.TextContent)
            assert got.messages[0].content.text == "Plan 3 days in Kyoto."
            contents = (await client.read_resource("text://motd")).contents
            assert (
                isinstance(contents[0], types.TextResourceContents) and contents[0].text == "hello from nbmcp"
            )
            with pytest.raises(MCPError) as info:
                await client.read_resource("data://missing")
            assert info.value.error.code == types.INVALID_PARAMS

    run(main)
    judged = recorder.modern()
    assert judged[0][0]["method"] == "server/discover"
    methods = {sent["method"] for sent, _ in judged}
    assert {"tools/call", "tools/list", "prompts/get", "resources/read"} <= methods
    assert not [r for r in recorder.exchanges if r.verb != "POST"], (
        "no GET stream, no DELETE under 2026-07-28"
    )


def test_client_legacy_mode(url: str) -> None:
    async def main() -> None:
        async with Client(url, mode="legacy") as client:
            assert client.protocol_version == "2025-11-25"
            assert client.session.initialize_result is not None
            assert text_of(await client.call_tool("shout", {"text": "abc"})) == "ABC"

    run(main)


def test_discover_probe_as_the_sdk_sends_it(url: str) -> None:
    """``server/discover`` at 2026-07-28, as ``negotiate_auto`` sends it, is answered in kind."""
    probe = rpc(
        "server/discover",
        {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientInfo": {"name": "probe", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
        msg_id=1,
    )
    content = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    with bare_client() as http:
        response = http.post(
            url,
            json=probe,
            headers={**content, "MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"},
        )
        assert response.status_code == 200, (response.status_code, response.text)
        (answer,) = read_messages(response)
        result = oracle.validate_answer("server/discover", answer, MODERN, request_id=1, expect="result")
        assert result["resultType"] == "complete"
        assert MODERN in result["supportedVersions"]
        assert set(oracle.HANDSHAKE_VERSIONS) <= set(result["supportedVersions"])
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "sdk-judge"
        assert result["instructions"] == "Test server for the SDK client."
        assert {"tools", "prompts", "resources"} <= set(result["capabilities"])

        # The body speaks 2026-07-28 but the header is missing: a header mismatch, not a legacy call.
        response = http.post(url, json=probe, headers=content)
        assert response.status_code == 400, (response.status_code, response.text)
        (answer,) = read_messages(response)
        error = oracle.validate_answer("server/discover", answer, MODERN, request_id=1, expect="error")
        assert error["code"] == -32020, error


# -- multi round-trip requests through the SDK client's callbacks, beside a legacy client --------


def build_asking_server() -> MCPServer:
    """Tools and a prompt that ask the client: the same code serves both protocol generations."""
    server = MCPServer("sdk-asker", version="0.0.1")
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name"],
    }

    @server.tool
    async def ask_user(ctx: Context) -> dict[str, Any]:
        """Elicitation (no key: nbmcp numbers it)."""
        answer = await ctx.elicit("Who are you?", schema, timeout=WAIT)
        return {"action": answer["action"], "content": answer.get("content")}

    @server.tool
    async def ask_model(question: str, ctx: Context) -> str:
        """Sampling."""
        reply = await ctx.sample(question, max_tokens=50, system_prompt="be brief", timeout=WAIT)
        return f"model said: {reply['content']['text']} ({reply['model']})"

    @server.tool
    async def where(ctx: Context) -> list[str]:
        """The client's roots."""
        reply = await ctx.list_roots(timeout=WAIT)
        return [root["uri"] for root in reply["roots"]]

    @server.tool
    async def survey(ctx: Context) -> dict[str, Any]:
        """All three questions at once: one round."""
        user, model, roots = await asyncio.gather(
            ctx.elicit("Who are you?", schema, key="who", timeout=WAIT),
            ctx.sample("Say hi", max_tokens=5, key="hi", timeout=WAIT),
            ctx.list_roots(key="roots", timeout=WAIT),
        )
        return {
            "name": user["content"]["name"],
            "said": model["content"]["text"],
            "roots": [root["uri"] for root in roots["roots"]],
        }

    @server.tool
    async def two_steps(ctx: Context) -> str:
        """One question, then another: two rounds."""
        first = await ctx.elicit("Step 1: your name?", schema, key="step1", timeout=WAIT)
        second = await ctx.elicit("Step 2: your age?", schema, key="step2", timeout=WAIT)
        return f"{first['content']['name']} is {second['content'].get('age')}"

    @server.tool
    def sync_ask(ctx: Context) -> str:
        """A sync tool waiting in its worker thread."""
        answer = ctx.elicit("Who are you?", schema, key="who", timeout=WAIT).result(WAIT)
        return f"sync hello {answer['content']['name']}"

    @server.prompt()
    async def briefing(ctx: Context) -> str:
        """A prompt that asks the user its topic first."""
        topic = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        answer = await ctx.elicit("Which topic?", topic, key="topic", timeout=WAIT)
        return f"Brief me on {answer['content']['name']}."

    return server


@pytest.fixture
def asking_url(serve: Any) -> str:
    return str(serve(build_asking_server()))


class Answers:
    """SDK client callbacks that answer every question and remember what they were asked."""

    def __init__(self, name: str = "Ada", age: int = 36) -> None:
        self.name, self.age = name, age
        self.elicited: list[tuple[Any, str]] = []  # (request id the SDK saw, message)
        self.sampled: list[Any] = []
        self.rooted: list[Any] = []

    async def elicit(self, context: Any, params: Any) -> types.ElicitResult:
        self.elicited.append((context.request_id, params.message))
        return types.ElicitResult(action="accept", content={"name": self.name, "age": self.age})

    async def sample(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.sampled.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="forty-two"),
            model="judge-model",
            stop_reason="endTurn",
        )

    async def roots(self, context: Any) -> types.ListRootsResult:
        self.rooted.append(context.request_id)
        return types.ListRootsResult(roots=[types.Root(uri="file:///work/a", name="a")])

    def callbacks(self) -> dict[str, Any]:
        return {
            "elicitation_callback": self.elicit,
            "sampling_callback": self.sample,
            "list_roots_callback": self.roots,
        }


def test_client_answers_input_required_rounds(asking_url: str) -> None:
    recorder = Recorder()
    answers = Answers()

    async def main() -> None:
        async with recorded_client(asking_url, recorder, **answers.callbacks()) as client:
            assert client.protocol_version == MODERN
            result = await client.call_tool("ask_user", {})
            assert result.structured_content == {"action": "accept", "content": {"name": "Ada", "age": 36}}
            assert answers.elicited == [("elicit_1", "Who are you?")]  # the key is the request id it saw

            result = await client.call_tool("ask_model", {"question": "meaning of life?"})
            assert text_of(result) == "model said: forty-two (judge-model)"
            (params,) = answers.sampled
            assert (params.max_tokens, params.system_prompt) == (50, "be brief")
            content = params.messages[0].content
            assert isinstance(content, types.TextContent) and content.text == "meaning of life?"

            result = await client.call_tool("where", {})
            assert result.structured_content == {"result": ["file:///work/a"]}
            assert answers.rooted == ["roots_1"]

            got = await client.get_prompt("briefing")
            assert isinstance(got.messages[0].content, types.TextContent)
            assert got.messages[0].content.text == "Brief me on Ada."

    run(main)
    for tool in ("ask_user", "ask_model", "where"):
        first, last = recorder.calls_of(tool)
        assert first["resultType"] == "input_required" and last["resultType"] == "complete", tool
    asked = recorder.calls_of("ask_user")[0]["inputRequests"]
    assert asked["elicit_1"]["method"] == "elicitation/create"
    assert asked["elicit_1"]["params"]["message"] == "Who are you?"


def test_client_batched_and_multi_round_questions(asking_url: str) -> None:
    recorder = Recorder()
    answers = Answers()

    async def main() -> None:
        async with recorded_client(asking_url, recorder, **answers.callbacks()) as client:
            result = await client.call_tool("survey", {})
            assert result.structured_content == {
                "name": "Ada",
                "said": "forty-two",
                "roots": ["file:///work/a"],
            }
            result = await client.call_tool("two_steps", {})
            assert text_of(result) == "Ada is 36"
            result = await client.call_tool("sync_ask", {})
            assert text_of(result) == "sync hello Ada"

    run(main)
    survey = recorder.calls_of("survey")
    assert [r["resultType"] for r in survey] == ["input_required", "complete"], "three questions, one round"
    assert {k: v["method"] for k, v in survey[0]["inputRequests"].items()} == {
        "who": "elicitation/create",
        "hi": "sampling/createMessage",
        "roots": "roots/list",
    }
    steps = recorder.calls_of("two_steps")
    assert [r["resultType"] for r in steps] == ["input_required", "input_required", "complete"]
    assert [list(r["inputRequests"]) for r in steps[:2]] == [["step1"], ["step2"]]
    assert steps[0]["requestState"] != steps[1]["requestState"]
    assert [r["resultType"] for r in recorder.calls_of("sync_ask")] == ["input_required", "complete"]


def test_client_without_the_capability_is_refused(asking_url: str) -> None:
    """A 2026-07-28 client that declared no sampling gets -32021 naming it, never a question."""

    async def main() -> None:
        async with Client(asking_url) as client:
            assert client.protocol_version == MODERN
            with pytest.raises(MCPError) as info:
                await client.call_tool("ask_model", {"question": "?"})
            assert info.value.error.code == -32021
            assert info.value.error.data == {"requiredCapabilities": {"sampling": {}}}

    run(main)


def test_both_generations_ask_at_the_same_time(asking_url: str) -> None:
    """A 2026-07-28 client and a 2025-11-25 one (``mode="legacy"``) call the same eliciting tool at once.

    Each callback waits until the other one is being asked too: the legacy call holds its
    tool open on its SSE stream (a server request), the modern call is between two rounds.
    """
    modern_rec, legacy_rec = Recorder(), Recorder()
    modern_answers, legacy_answers = Answers("Ada", 36), Answers("Bob", 40)
    both = anyio.Event()
    asked: list[str] = []

    def waiting(answers: Answers, who: str) -> Callable[[Any, Any], Awaitable[types.ElicitResult]]:
        async def elicit(context: Any, params: Any) -> types.ElicitResult:
            asked.append(who)
            if len(asked) == 2:
                both.set()
            await both.wait()
            return await answers.elicit(context, params)

        return elicit

    async def main() -> None:
        async with (
            recorded_client(
                asking_url, modern_rec, elicitation_callback=waiting(modern_answers, "modern")
            ) as modern,
            recorded_client(
                asking_url, legacy_rec, mode="legacy", elicitation_callback=waiting(legacy_answers, "legacy")
            ) as legacy,
        ):
            assert (modern.protocol_version, legacy.protocol_version) == (MODERN, "2025-11-25")
            results: dict[str, types.CallToolResult] = {}

            async def call(who: str, client: Client) -> None:
                results[who] = await client.call_tool("ask_user", {})

            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "modern", modern)
                tg.start_soon(call, "legacy", legacy)
            assert results["modern"].structured_content == {
                "action": "accept",
                "content": {"name": "Ada", "age": 36},
            }
            assert results["legacy"].structured_content == {
                "action": "accept",
                "content": {"name": "Bob", "age": 40},
            }

    run(main)
    assert sorted(asked) == ["legacy", "modern"]
    assert [r["resultType"] for r in modern_rec.calls_of("ask_user")] == ["input_required", "complete"]
    assert modern_answers.elicited == [("elicit_1", "Who are you?")]
    # The legacy call: a handshake, then the question as a server request on the call's SSE stream.
    assert not legacy_rec.modern()
    assert legacy_rec.exchanges[0].sent["method"] == "initialize"
    (call,) = [
        r for r in legacy_rec.exchanges if isinstance(r.sent, dict) and r.sent.get("method") == "tools/call"
    ]
    assert call.headers["mcp-protocol-version"] == "2025-11-25" and call.headers.get("mcp-session-id")
    assert call.content_type.startswith("text/event-stream")
    requests = [m for m in call.messages() if isinstance(m, dict) and "method" in m and "id" in m]
    assert [oracle.validate_server_message(m, "2025-11-25")["method"] for m in requests] == [
        "elicitation/create"
    ]
    ((legacy_id, _),) = legacy_answers.elicited
    assert legacy_id == requests[0]["id"]
    replies = [r.sent for r in legacy_rec.exchanges if isinstance(r.sent, dict) and "result" in r.sent]
    assert [reply["id"] for reply in replies] == [legacy_id]
    oracle.validate_client_result("elicitation/create", replies[0]["result"], "2025-11-25")


# -- every handshake-era revision, by hand -----------------------------------------------------


def build_versioned_server() -> MCPServer:
    server = MCPServer("versions", title="Version Judge", website_url="https://example.com/nbmcp")

    @server.tool(
        title="Structured add",
        read_only=True,
        icons=[{"src": "https://example.com/add.png", "mimeType": "image/png"}],
    )
    def add(a: int, b: int) -> dict[str, int]:
        """Add, returning an object."""
        return {"sum": a + b}

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise ToolError("no can do")

    @server.tool
    def lines(n: int):  # type: ignore[no-untyped-def]
        """A generator tool."""
        for i in range(n):
            yield f"line {i}"

    @server.tool
    async def ask_model(ctx: Context) -> str:
        """Sampling (bounded: an unanswered request fails the call after 3 s)."""
        reply = await ctx.sample("ping?", max_tokens=20, timeout=3)
        return str(reply["content"]["text"])

    @server.tool
    async def ask_user(ctx: Context) -> str:
        """Elicitation (bounded like ask_model)."""
        schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        reply = await ctx.elicit("Your name?", schema, timeout=3)
        return f"{reply['action']}:{(reply.get('content') or {}).get('name')}"

    @server.resource("data://v", title="Versioned data", mime_type="text/plain")
    def data() -> str:
        return "v"

    @server.prompt(title="Greeting")
    def greet(name: str) -> str:
        """Say hello."""
        return f"Hello {name}"

    return server


@pytest.fixture
def vurl(serve: Any) -> str:
    return str(serve(build_versioned_server()))


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_initialize_at_each_version(vurl: str, version: str) -> None:
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        result = session.initialize()
        assert result["protocolVersion"] == version
        assert session.session_id, "a stateful server issues Mcp-Session-Id on initialize"
        assert result["serverInfo"]["name"] == "versions"
        answer, _ = session.request("ping")
        assert answer["result"] == {}
        assert session.close() in (200, 204)


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_tools_at_each_version(vurl: str, version: str) -> None:
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize(strict=False)  # initialize is judged in its own test
        answer, _ = session.request("tools/list")
        tools = {t["name"]: t for t in answer["result"]["tools"]}
        assert set(tools) == {"add", "fail", "lines", "ask_model", "ask_user"}
        assert tools["add"]["inputSchema"]["required"] == ["a", "b"]

        answer, _ = session.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        result = answer["result"]
        assert result["isError"] is False
        assert any(block.get("type") == "text" and "3" in block["text"] for block in result["content"])
        if version >= "2025-06-18":
            assert result["structuredContent"] == {"sum": 3}

        answer, _ = session.request("tools/call", {"name": "fail", "arguments": {}})
        assert answer["result"]["isError"] is True
        assert answer["result"]["content"][0]["text"] == "no can do"
        session.close()


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_progress_at_each_version(vurl: str, version: str) -> None:
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize(strict=False)  # initialize is judged in its own test
        answer, notes = session.request(
            "tools/call", {"name": "lines", "arguments": {"n": 2}, "_meta": {"progressToken": "tok"}}
        )
        assert [b["text"] for b in answer["result"]["content"]] == ["line 0", "line 1"]
        progress = [n["params"] for n in notes if n.get("method") == "notifications/progress"]
        assert [p["progressToken"] for p in progress] == ["tok", "tok"]
        assert [p["progress"] for p in progress] == [1, 2]
        session.close()


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_resources_at_each_version(vurl: str, version: str) -> None:
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize(strict=False)  # initialize is judged in its own test
        answer, _ = session.request("resources/list")
        assert [r["uri"] for r in answer["result"]["resources"]] == ["data://v"]
        answer, _ = session.request("resources/read", {"uri": "data://v"})
        assert answer["result"]["contents"][0]["text"] == "v"
        session.close()


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_prompts_at_each_version(vurl: str, version: str) -> None:
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize(strict=False)  # initialize is judged in its own test
        answer, _ = session.request("prompts/list")
        assert [p["name"] for p in answer["result"]["prompts"]] == ["greet"]
        answer, _ = session.request("prompts/get", {"name": "greet", "arguments": {"name": "Bo"}})
        assert answer["result"]["messages"][0]["content"]["text"] == "Hello Bo"
        session.close()


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_batches_follow_the_revision(vurl: str, version: str) -> None:
    """2024-11-05 and 2025-03-26 carry JSON-RPC batches; 2025-06-18 removed them."""
    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize(strict=False)  # initialize is judged in its own test
        batch = [rpc("ping"), rpc("tools/list")]
        response = http.post(vurl, json=batch, headers=session.headers("application/json"))
        if version in ("2024-11-05", "2025-03-26"):
            assert response.status_code == 200, response.text
            (answers,) = read_messages(response)
            assert isinstance(answers, list) and len(answers) == 2
            by_id = {a["id"]: a for a in answers}
            oracle.validate_answer("ping", by_id[batch[0]["id"]], version, request_id=batch[0]["id"])
            oracle.validate_answer("tools/list", by_id[batch[1]["id"]], version, request_id=batch[1]["id"])
        else:
            assert response.status_code == 400, response.text
            error = oracle.validate_answer(None, response.json(), version, expect="error")
            assert error["code"] == -32600
        session.close()


def test_raw_unknown_version_falls_back_to_latest(vurl: str) -> None:
    """initialize with a version we do not speak is answered with one we do (never an error)."""
    with bare_client() as http:
        message = rpc(
            "initialize",
            {
                "protocolVersion": "1999-01-01",
                "capabilities": {},
                "clientInfo": {"name": "x", "version": "0"},
            },
        )
        response = http.post(
            vurl, json=message, headers={"Content-Type": "application/json", "Accept": "application/json"}
        )
        assert response.status_code == 200
        result = oracle.validate_answer("initialize", response.json(), "2025-11-25", request_id=message["id"])
        assert result["protocolVersion"] in oracle.HANDSHAKE_VERSIONS


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
def test_raw_sampling_round_trip_at_each_version(vurl: str, version: str) -> None:
    """The server asks on the request's SSE stream; the answer comes back in its own POST."""
    asked: list[dict[str, Any]] = []

    def reply(message: dict[str, Any]) -> dict[str, Any]:
        asked.append(message)
        assert message["method"] == "sampling/createMessage"
        return {
            "role": "assistant",
            "content": {"type": "text", "text": "pong"},
            "model": "m",
            "stopReason": "endTurn",
        }

    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize({"sampling": {}}, strict=False)
        answer, _ = session.converse("tools/call", {"name": "ask_model", "arguments": {}}, reply)
        assert answer["result"]["isError"] is False, answer
        assert answer["result"]["content"][0]["text"] == "pong"
        assert len(asked) == 1
        assert asked[0]["params"]["messages"][0]["content"]["text"] == "ping?"
        session.close()


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_raw_elicitation_round_trip(vurl: str, version: str) -> None:
    def reply(message: dict[str, Any]) -> dict[str, Any]:
        assert message["method"] == "elicitation/create"
        assert message["params"]["message"] == "Your name?"
        return {"action": "accept", "content": {"name": "Grace"}}

    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize({"elicitation": {}}, strict=False)
        answer, _ = session.converse("tools/call", {"name": "ask_user", "arguments": {}}, reply)
        assert answer["result"]["content"][0]["text"] == "accept:Grace"
        session.close()


@pytest.mark.parametrize("version", oracle.HANDSHAKE_VERSIONS)
@pytest.mark.parametrize("tool", ["ask_model", "ask_user"])
def test_raw_no_server_request_the_client_cannot_take(vurl: str, version: str, tool: str) -> None:
    """A client that declared neither sampling nor elicitation must not be sent either request.

    Lifecycle, "Operation": both parties MUST "only use capabilities that were successfully
    negotiated"; client/sampling and client/elicitation: clients that support them MUST declare
    the capability. (elicitation/create does not exist at all before 2025-06-18.) The tool's
    call must fail as a tool error instead of waiting for an answer that cannot come.
    """
    sent: list[dict[str, Any]] = []

    def reply(message: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - must not be reached
        sent.append(message)
        raise AssertionError(f"server sent {message['method']} to a client without that capability")

    with bare_client() as http:
        session = RawSession(http, vurl, version)
        session.initialize({}, strict=False)
        answer, others = session.request("tools/call", {"name": tool, "arguments": {}})
        requests = [m for m in others if "id" in m]
        assert not requests, f"server sent {[m['method'] for m in requests]} without the client capability"
        if "result" in answer:
            assert answer["result"]["isError"] is True, answer
        session.close()
