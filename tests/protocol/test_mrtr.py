"""Input-required rounds of protocol 2026-07-28 by stateless replay, at the engine (no HTTP).

Each test builds a server's registry and engine (an :class:`~nbmcp.MCPServer` that is never
started) and drives :meth:`ModernDispatch.handle` with 2026-07-28 messages, as
:mod:`nbmcp.http.modern_post` does: a round ends with ``input_required``, the test answers its
``inputRequests`` and retries with the sealed ``requestState``, and the tool runs again from the
top. Every answer is judged by the specification's 2026-07-28 schema (``tests.peers.oracle``).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from nbmcp import Context, MCPServer
from nbmcp.principal import Principal
from nbmcp.protocol import request_state
from nbmcp.protocol.envelope import (
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
    PROTOCOL_VERSION_KEY,
    SERVER_INFO_KEY,
    read_envelope,
)
from nbmcp.protocol.modern import ModernDispatch
from tests.peers.oracle import validate_answer, validate_server_message

MODERN = "2026-07-28"
ALL_CAPS: dict[str, Any] = {"elicitation": {}, "sampling": {}, "roots": {}}
NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
ALICE = Principal("alice")
BOB = Principal("bob")
_ids = itertools.count(1)

ACCEPT_ADA = {"action": "accept", "content": {"name": "Ada"}}
SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "forty-two"}, "model": "judge"}
ROOTS = {"roots": [{"uri": "file:///work/a", "name": "a"}]}
ANSWER_OF = {"elicitation/create": ACCEPT_ADA, "sampling/createMessage": SAMPLED, "roots/list": ROOTS}
"""A fitting client result for each kind of question."""


class Counts:
    """How often each part of the tools ran (the tools run in worker threads too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: dict[str, int] = {}

    def hit(self, name: str) -> None:
        with self._lock:
            self.seen[name] = self.seen.get(name, 0) + 1

    def __getitem__(self, name: str) -> int:
        return self.seen.get(name, 0)


def build(counts: Counts, wording: dict[str, str]) -> MCPServer:
    """A server whose tools, prompt and resource ask their client things."""
    server = MCPServer("mrtr", "9.9.9")

    @server.tool
    def sync_two(ctx: Context, city: str = "Oslo") -> str:
        """A sync tool (worker thread): two questions, one after the other (auto keys)."""
        counts.hit("sync_two:before")
        first = ctx.elicit(f"Who travels to {city}?", NAME_SCHEMA).result(10)
        counts.hit("sync_two:between")
        second = ctx.sample(f"A fact about {city}", max_tokens=20).result(10)
        counts.hit("sync_two:after")
        return f"{first['content']['name']} / {second['content']['text']}"

    @server.tool
    async def survey(ctx: Context) -> dict[str, Any]:
        """Three questions at once: one round."""
        counts.hit("survey:before")
        user, model, roots = await asyncio.gather(
            ctx.elicit("Your name?", NAME_SCHEMA), ctx.sample("Say hi", max_tokens=5), ctx.list_roots()
        )
        counts.hit("survey:after")
        return {
            "name": user["content"]["name"],
            "said": model["content"]["text"],
            "roots": [root["uri"] for root in roots["roots"]],
        }

    @server.tool
    async def ordered(ctx: Context) -> str:
        """Auto keys follow call order, whatever the kind."""
        answers = await asyncio.gather(
            ctx.sample("one"), ctx.elicit("two", NAME_SCHEMA), ctx.list_roots(), ctx.sample("four")
        )
        return str(len(answers))

    @server.tool
    async def reworded(ctx: Context) -> str:
        """Asks under key ``q`` whatever ``wording["q"]`` says at the time."""
        reply = await ctx.elicit(wording["q"], NAME_SCHEMA, key="q")
        return f"q answered by {reply['content']['name']}"

    @server.tool
    async def reworded_auto(ctx: Context) -> str:
        """The same with an automatic key."""
        reply = await ctx.elicit(wording["q"], NAME_SCHEMA)
        return f"auto answered by {reply['content']['name']}"

    @server.tool
    async def ask_name(ctx: Context) -> str:
        """One elicitation under key ``name``."""
        reply = await ctx.elicit("Name?", NAME_SCHEMA, key="name")
        return f"hello {reply['content']['name']}"

    @server.tool
    async def ask_name_too(ctx: Context) -> str:
        """Exactly the same question under the same key, in another tool."""
        reply = await ctx.elicit("Name?", NAME_SCHEMA, key="name")
        return f"hello {reply['content']['name']}"

    @server.tool
    def sync_model(ctx: Context) -> str:
        """A sync tool that samples under key ``m``."""
        reply = ctx.sample("Hi?", key="m").result(10)
        return str(reply["content"]["text"])

    @server.tool
    def sync_roots(ctx: Context) -> int:
        """A sync tool that lists roots."""
        return len(ctx.list_roots().result(10)["roots"])

    @server.tool
    async def clash(ctx: Context, explicit: str) -> str:
        """Two different questions under one key: ``explicit`` names the first one's key."""
        third = None if explicit == "elicit_2" else explicit  # elicit_2 is the third's automatic key
        await asyncio.gather(
            ctx.elicit("Question A?", NAME_SCHEMA, key=explicit),
            ctx.elicit("Question B?", NAME_SCHEMA),
            ctx.elicit("Question C?", NAME_SCHEMA, key=third),
        )
        return "all answered"

    @server.tool
    async def quiet(ctx: Context) -> dict[str, Any]:
        """Takes a Context, asks nothing."""
        counts.hit("quiet")
        return {
            "version": ctx.protocol_version,
            "capabilities": sorted(ctx.client_capabilities),
            "client": ctx.client_info.get("name"),
        }

    @server.tool
    async def chatty(ctx: Context) -> str:
        """Logs at three levels."""
        await ctx.debug("a debug line")
        await ctx.info("an info line")
        await ctx.error("an error line")
        return "logged"

    @server.prompt()
    async def briefing(ctx: Context, city: str) -> str:
        """A prompt that asks the user first."""
        counts.hit("briefing")
        reply = await ctx.elicit(f"Brief whom on {city}?", NAME_SCHEMA, key="who")
        return f"Brief {reply['content']['name']} on {city}."

    @server.resource("notes://{topic}", mime_type="text/plain")
    def notes(topic: str, ctx: Context) -> str:
        """A resource (sync, in a worker thread) that asks the user first."""
        counts.hit("notes")
        reply = ctx.elicit(f"Whose notes on {topic}?", NAME_SCHEMA, key="owner").result(10)
        return f"{reply['content']['name']}'s notes on {topic}"

    return server


class Harness:
    """One server's engine, spoken to as a 2026-07-28 client would (without HTTP)."""

    def __init__(self, **dispatch: Any) -> None:
        self.counts = Counts()
        self.wording = {"q": "First wording?"}
        self.server = build(self.counts, self.wording)
        self.dispatch = ModernDispatch(self.server.engine, **dispatch)
        self.sent: list[dict[str, Any]] = []

    async def _collect(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def request(
        self,
        method: str,
        params: dict[str, Any],
        *,
        caps: dict[str, Any] | None = None,
        principal: Principal | None = None,
        meta: dict[str, Any] | None = None,
        streaming: bool = False,
    ) -> dict[str, Any]:
        """One request's whole JSON-RPC answer (``streaming``: notifications go to ``self.sent``)."""
        envelope = {
            PROTOCOL_VERSION_KEY: MODERN,
            CLIENT_CAPABILITIES_KEY: ALL_CAPS if caps is None else caps,
            CLIENT_INFO_KEY: {"name": "mrtr-test", "version": "1"},
            **(meta or {}),
        }
        full = {**params, "_meta": envelope}
        msg = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": full}
        send = self._collect if streaming else None
        answer = await self.dispatch.handle(msg, read_envelope(full), principal, {}, send)
        assert answer["id"] == msg["id"], answer
        validate_answer(method, answer, MODERN, request_id=msg["id"])
        return answer

    async def result(self, method: str, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = await self.request(method, params, **kwargs)
        assert "result" in answer, answer
        result: dict[str, Any] = answer["result"]
        assert result["_meta"][SERVER_INFO_KEY] == {"name": "mrtr", "version": "9.9.9"}, result
        return result

    async def error(self, method: str, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = await self.request(method, params, **kwargs)
        assert "error" in answer and "result" not in answer, answer
        error: dict[str, Any] = answer["error"]
        return error

    async def rounds(
        self,
        method: str,
        params: dict[str, Any],
        answer: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda key, asked: ANSWER_OF[
            asked["method"]
        ],
        *,
        limit: int = 6,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Every round's result until one is complete; each retry answers only what was asked."""
        results = [await self.result(method, params, **kwargs)]
        while results[-1]["resultType"] == "input_required":
            assert len(results) < limit, f"still asking after {limit} rounds: {results[-1]!r:.300}"
            asked = results[-1]["inputRequests"]
            responses = {key: answer(key, request) for key, request in asked.items()}
            retry = {**params, "inputResponses": responses, "requestState": results[-1]["requestState"]}
            results.append(await self.result(method, retry, **kwargs))
        return results


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def methods_of(result: dict[str, Any]) -> dict[str, str]:
    return {key: request["method"] for key, request in result["inputRequests"].items()}


# -- replay ---------------------------------------------------------------------------------------


def test_a_sync_tool_replays_from_the_top_each_round() -> None:
    h = Harness()
    results = run(h.rounds("tools/call", call("sync_two", city="Lima")))
    assert [r["resultType"] for r in results] == ["input_required", "input_required", "complete"]
    first, second, done = results
    assert first["inputRequests"] == {
        "elicit_1": {
            "method": "elicitation/create",
            "params": {"message": "Who travels to Lima?", "requestedSchema": NAME_SCHEMA},
        }
    }
    # Round two: the first answer is known, only the second question is asked (key by call order).
    assert methods_of(second) == {"sample_2": "sampling/createMessage"}
    assert second["inputRequests"]["sample_2"]["params"]["maxTokens"] == 20
    assert first["requestState"] != second["requestState"]
    assert done["content"] == [{"type": "text", "text": "Ada / forty-two"}]
    assert done["isError"] is False
    # Code before an ask runs once per round; code after the last ask runs once.
    assert (h.counts["sync_two:before"], h.counts["sync_two:between"], h.counts["sync_two:after"]) == (
        3,
        2,
        1,
    )


def test_a_retry_needs_only_the_new_answers_the_state_keeps_the_old() -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("tools/call", call("sync_two"))
        second = await h.result(
            "tools/call",
            {
                **call("sync_two"),
                "inputResponses": {"elicit_1": ACCEPT_ADA},
                "requestState": first["requestState"],
            },
        )
        # Only sample_2's answer now: elicit_1's rides in the sealed state.
        return await h.result(
            "tools/call",
            {
                **call("sync_two"),
                "inputResponses": {"sample_2": SAMPLED},
                "requestState": second["requestState"],
            },
        )

    done = run(main())
    assert done["resultType"] == "complete"
    assert done["content"][0]["text"] == "Ada / forty-two"


def test_gathered_asks_share_one_round() -> None:
    h = Harness()
    results = run(h.rounds("tools/call", call("survey")))
    assert [r["resultType"] for r in results] == ["input_required", "complete"]
    asked = results[0]["inputRequests"]
    assert methods_of(results[0]) == {
        "elicit_1": "elicitation/create",
        "sample_2": "sampling/createMessage",
        "roots_3": "roots/list",
    }
    assert asked["elicit_1"]["params"] == {"message": "Your name?", "requestedSchema": NAME_SCHEMA}
    assert asked["sample_2"]["params"] == {
        "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
        "maxTokens": 5,
    }
    assert asked["roots_3"]["params"] == {}
    assert results[1]["structuredContent"] == {
        "name": "Ada",
        "said": "forty-two",
        "roots": ["file:///work/a"],
    }
    assert (h.counts["survey:before"], h.counts["survey:after"]) == (2, 1)


def test_automatic_keys_follow_call_order() -> None:
    h = Harness()
    results = run(h.rounds("tools/call", call("ordered")))
    assert list(results[0]["inputRequests"]) == ["sample_1", "elicit_2", "roots_3", "sample_4"]
    assert methods_of(results[0]) == {
        "sample_1": "sampling/createMessage",
        "elicit_2": "elicitation/create",
        "roots_3": "roots/list",
        "sample_4": "sampling/createMessage",
    }
    assert results[0]["inputRequests"]["sample_4"]["params"]["messages"][0]["content"]["text"] == "four"
    assert results[-1]["content"] == [{"type": "text", "text": "4"}]


def test_a_tool_that_asks_nothing_completes_in_one_round() -> None:
    h = Harness()
    results = run(h.rounds("tools/call", call("quiet"), caps={"sampling": {}}))
    assert len(results) == 1 and results[0]["resultType"] == "complete"
    assert "inputRequests" not in results[0] and "requestState" not in results[0]
    assert results[0]["structuredContent"] == {
        "version": MODERN,
        "capabilities": ["sampling"],
        "client": "mrtr-test",
    }
    assert h.counts["quiet"] == 1


@pytest.mark.parametrize("tool", ["reworded", "reworded_auto"])
def test_a_changed_question_is_asked_again(tool: str) -> None:
    h = Harness()
    names = iter(["Ada", "Grace"])
    key = "q" if tool == "reworded" else "elicit_1"

    def answer(asked_key: str, asked: dict[str, Any]) -> dict[str, Any]:
        assert asked_key == key
        h.wording["q"] = "Second wording?"  # the next round asks something else under the same key
        return {"action": "accept", "content": {"name": next(names)}}

    results = run(h.rounds("tools/call", call(tool), answer))
    assert [r["resultType"] for r in results] == ["input_required", "input_required", "complete"]
    assert results[0]["inputRequests"][key]["params"]["message"] == "First wording?"
    assert results[1]["inputRequests"][key]["params"]["message"] == "Second wording?"
    assert results[2]["content"][0]["text"].endswith("answered by Grace"), "the answer to the new question"


def test_an_unasked_extra_answer_is_ignored() -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("tools/call", call("sync_two"))
        # sample_2 was not asked yet: its answer must not be taken on trust for the next question.
        extra = {"elicit_1": ACCEPT_ADA, "sample_2": SAMPLED}
        retry = {**call("sync_two"), "inputResponses": extra, "requestState": first["requestState"]}
        return await h.result("tools/call", retry)

    second = run(main())
    assert second["resultType"] == "input_required"
    assert methods_of(second) == {"sample_2": "sampling/createMessage"}


def test_a_partial_retry_asks_only_what_is_still_missing() -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("tools/call", call("survey"))
        partial = {"elicit_1": ACCEPT_ADA}  # the client answered one question of three
        retry = {**call("survey"), "inputResponses": partial, "requestState": first["requestState"]}
        return await h.result("tools/call", retry)

    second = run(main())
    assert second["resultType"] == "input_required"
    assert methods_of(second) == {"sample_2": "sampling/createMessage", "roots_3": "roots/list"}


@pytest.mark.parametrize("explicit", ["elicit_2", "same"], ids=["explicit-equals-auto", "explicit-twice"])
def test_two_questions_under_one_key_never_loop(explicit: str) -> None:
    """Keys must be unique within a request (MRTR). Two different questions under one key (a
    ``key=`` that equals an automatic one, or the same ``key=`` twice) must not drop a question
    and re-ask it forever: the request completes or fails, within a few rounds."""
    h = Harness()

    async def main() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        params = call("clash", explicit=explicit)
        for _ in range(5):
            answer = await h.request("tools/call", params)
            seen.append(answer)
            result = answer.get("result")
            if result is None or result["resultType"] == "complete":
                return seen
            responses = {key: ACCEPT_ADA for key in result["inputRequests"]}
            params = {
                **call("clash", explicit=explicit),
                "inputResponses": responses,
                "requestState": result["requestState"],
            }
        return seen

    seen = run(main())
    asked = [
        sorted(r["result"]["inputRequests"].items())
        for r in seen
        if "result" in r and r["result"]["resultType"] == "input_required"
    ]
    last = seen[-1]
    assert len(seen) == 1, f"still asking: {asked!r:.600}"  # refused at once, never asked
    result = last["result"]
    assert result["resultType"] == "complete" and result["isError"] is True  # the tool's own mistake
    assert "names two different questions in one request" in result["content"][0]["text"]


# -- what a round may refuse ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "key", "wrong"),
    [
        ("ask_name", "name", SAMPLED),  # async tool, elicitation answered with a sampling result
        ("ask_name", "name", {"action": "accept", "content": "Ada"}),
        ("sync_model", "m", ACCEPT_ADA),  # sync tool, sampling answered with an elicitation result
        ("sync_roots", "roots_1", {"roots": [{"name": "no uri"}]}),
    ],
    ids=["elicit-got-sample", "elicit-content-not-object", "sample-got-elicit", "roots-without-uri"],
)
def test_an_answer_of_the_wrong_kind_is_invalid_params(tool: str, key: str, wrong: dict[str, Any]) -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("tools/call", call(tool))
        assert list(first["inputRequests"]) == [key]
        retry = {**call(tool), "inputResponses": {key: wrong}, "requestState": first["requestState"]}
        return await h.error("tools/call", retry)

    error = run(main())
    assert error["code"] == -32602, error  # the request's error, not an isError tool result
    assert key in error["message"] and "\n" not in error["message"]


@pytest.mark.parametrize(
    ("method", "params", "capability"),
    [
        ("tools/call", call("ask_name"), "elicitation"),
        ("tools/call", call("sync_model"), "sampling"),
        ("tools/call", call("sync_roots"), "roots"),
        ("tools/call", call("survey"), "sampling"),
        ("prompts/get", {"name": "briefing", "arguments": {"city": "Rome"}}, "elicitation"),
        ("resources/read", {"uri": "notes://rome"}, "elicitation"),
    ],
    ids=["async-elicit", "sync-sample", "sync-roots", "gathered", "prompt", "resource"],
)
def test_a_missing_capability_is_32021_naming_it(
    method: str, params: dict[str, Any], capability: str
) -> None:
    h = Harness()
    caps = {name: {} for name in ALL_CAPS if name != capability}
    error = run(h.error(method, params, caps=caps))
    assert error["code"] == -32021, error
    required = error["data"]["requiredCapabilities"]
    assert set(required) == {capability} and isinstance(required[capability], dict), error


def test_two_refused_asks_in_one_gather_are_still_the_requests_error() -> None:
    """``survey`` gathers elicit + sample + roots; a client with elicitation only lacks two of them.

    Whichever refusal the tool sees first, the request must fail with -32021, not become an
    ``isError`` tool result saying ``MissingCapability: ...``.
    """
    h = Harness()
    error = run(h.error("tools/call", call("survey"), caps={"elicitation": {}}))
    assert error["code"] == -32021, error
    assert set(error["data"]["requiredCapabilities"]) <= {"sampling", "roots"}, error


def test_two_wrong_answers_in_one_gather_are_still_invalid_params() -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("tools/call", call("survey"))
        wrong = {"elicit_1": ACCEPT_ADA, "sample_2": ACCEPT_ADA, "roots_3": ACCEPT_ADA}
        retry = {**call("survey"), "inputResponses": wrong, "requestState": first["requestState"]}
        return await h.error("tools/call", retry)

    error = run(main())
    assert error["code"] == -32602, error


# -- what requestState is bound to ------------------------------------------------------------------


def test_request_state_holds_only_for_its_caller_and_request() -> None:
    h = Harness()

    async def main() -> None:
        first = await h.result("tools/call", call("ask_name"), principal=ALICE)
        state = first["requestState"]
        answers = {"name": ACCEPT_ADA}

        async def refused(params: dict[str, Any], method: str = "tools/call", **kwargs: Any) -> None:
            retry = {**params, "inputResponses": answers, "requestState": state}
            error = await h.error(method, retry, **kwargs)
            assert (error["code"], error["message"]) == (-32602, "Invalid or expired requestState"), error
            assert error["data"] == {"reason": "invalid_request_state"}, error

        await refused(call("ask_name"), principal=BOB)  # another principal
        await refused(call("ask_name"))  # no principal at all
        await refused(call("ask_name_too"), principal=ALICE)  # another tool asking the same
        await refused({"name": "ask_name", "arguments": {}}, "prompts/get", principal=ALICE)
        retry = {**call("ask_name"), "inputResponses": answers, "requestState": state}
        done = await h.result("tools/call", retry, principal=ALICE)
        assert done["content"] == [{"type": "text", "text": "hello Ada"}]
        # Other arguments: the state of a call for Lima does not answer one for Oslo.
        lima = await h.result("tools/call", call("sync_two", city="Lima"))
        again = {**call("sync_two", city="Oslo"), "inputResponses": {"elicit_1": ACCEPT_ADA}}
        error = await h.error("tools/call", {**again, "requestState": lima["requestState"]})
        assert (error["code"], error["message"]) == (-32602, "Invalid or expired requestState"), error

    run(main())


def test_request_state_expires_after_the_configured_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [time.time()]
    monkeypatch.setattr(request_state, "_now", lambda: now[0])
    h = Harness(request_state_ttl=30.0)

    async def main() -> None:
        first = await h.result("tools/call", call("ask_name"))
        retry = {
            **call("ask_name"),
            "inputResponses": {"name": ACCEPT_ADA},
            "requestState": first["requestState"],
        }
        now[0] += 31.0
        error = await h.error("tools/call", retry)
        assert (error["code"], error["message"]) == (-32602, "Invalid or expired requestState"), error
        now[0] -= 2.0  # 29 s after sealing: still good
        done = await h.result("tools/call", retry)
        assert done["resultType"] == "complete"

    run(main())


def test_a_foreign_state_is_refused_under_another_secret() -> None:
    sealing = Harness(request_state_secret="s" * 32)
    other = Harness(request_state_secret="t" * 32)
    same = Harness(request_state_secret="s" * 32)

    async def main() -> None:
        first = await sealing.result("tools/call", call("ask_name"))
        retry = {
            **call("ask_name"),
            "inputResponses": {"name": ACCEPT_ADA},
            "requestState": first["requestState"],
        }
        error = await other.error("tools/call", retry)
        assert error["code"] == -32602 and error["data"] == {"reason": "invalid_request_state"}
        done = await same.result("tools/call", retry)  # another worker sharing the secret
        assert done["content"] == [{"type": "text", "text": "hello Ada"}]

    run(main())


# -- prompts and resources ask too ------------------------------------------------------------------


def test_a_prompt_asks_through_its_context() -> None:
    h = Harness()
    results = run(h.rounds("prompts/get", {"name": "briefing", "arguments": {"city": "Rome"}}))
    assert [r["resultType"] for r in results] == ["input_required", "complete"]
    assert results[0]["inputRequests"]["who"]["params"]["message"] == "Brief whom on Rome?"
    assert results[1]["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Brief Ada on Rome."}}
    ]
    assert h.counts["briefing"] == 2


def test_a_resource_asks_through_its_context() -> None:
    h = Harness()
    results = run(h.rounds("resources/read", {"uri": "notes://rome"}))
    assert [r["resultType"] for r in results] == ["input_required", "complete"]
    first, done = results
    assert methods_of(first) == {"owner": "elicitation/create"}
    assert "ttlMs" not in first and "cacheScope" not in first, "an input-required round is not cacheable"
    assert done["contents"] == [
        {"uri": "notes://rome", "mimeType": "text/plain", "text": "Ada's notes on rome"}
    ]
    assert (done["ttlMs"], done["cacheScope"]) == (0, "private")
    assert h.counts["notes"] == 2


def test_a_resource_state_does_not_open_another_uri() -> None:
    h = Harness()

    async def main() -> dict[str, Any]:
        first = await h.result("resources/read", {"uri": "notes://rome"})
        retry = {
            "uri": "notes://paris",
            "inputResponses": {"owner": ACCEPT_ADA},
            "requestState": first["requestState"],
        }
        return await h.error("resources/read", retry)

    error = run(main())
    assert (error["code"], error["message"]) == (-32602, "Invalid or expired requestState"), error


# -- what the server remembers of a round ---------------------------------------------------------


def test_an_input_required_round_is_recorded_as_answered() -> None:
    h = Harness()
    run(h.rounds("tools/call", call("survey")))
    done, asked = h.server.calls(limit=2, tool="survey")  # newest first
    assert asked["ok"] is True and asked["error"] is None, asked
    assert asked["summary"] == "input required: elicit_1, sample_2, roots_3", asked
    assert done["ok"] is True and "Ada" in done["summary"], done
    assert not h.server.monitor.running


# -- per-request log level --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, []),
        ("debug", ["debug", "info", "error"]),
        ("info", ["info", "error"]),
        ("warning", ["error"]),
        ("emergency", []),
    ],
)
def test_logs_follow_the_level_of_the_request(level: str | None, expected: list[str]) -> None:
    h = Harness()
    meta = {} if level is None else {LOG_LEVEL_KEY: level}
    result = run(h.result("tools/call", call("chatty"), meta=meta, streaming=True))
    assert result["content"] == [{"type": "text", "text": "logged"}]
    for message in h.sent:
        validate_server_message(message, MODERN)
    assert [m["method"] for m in h.sent] == ["notifications/message"] * len(expected)
    assert [m["params"]["level"] for m in h.sent] == expected


# -- the cached lists are shared ---------------------------------------------------------------------


def test_stamping_a_list_never_touches_the_cached_one() -> None:
    h = Harness(list_ttl_ms=5000)
    registry = h.server.registry
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list"):
        first = run(h.result(method, {}, principal=ALICE))
        assert (first["ttlMs"], first["cacheScope"], first["resultType"]) == (5000, "private", "complete")
        second = run(h.result(method, {}))
        assert (second["ttlMs"], second["cacheScope"]) == (5000, "public"), "no scope left over from before"
    cached = [
        registry.list_tools(MODERN),
        registry.list_prompts(MODERN),
        registry.list_resources(MODERN),
        registry.list_resource_templates(MODERN),
    ]
    for entry in cached:
        assert not {"resultType", "ttlMs", "cacheScope", "_meta"} & set(entry), entry
