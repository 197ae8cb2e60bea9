"""The MCP method table, driven directly with dicts (no HTTP)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from nbmcp.config import ServerConfig
from nbmcp.errors import UnsupportedVersion
from nbmcp.monitor import Monitor
from nbmcp.protocol import SUPPORTED_VERSIONS, Engine, ServerInfo, Session, Sessions
from nbmcp.protocol.versions import ALL_VERSIONS, check_modern, negotiate
from nbmcp.tools import Registry, Tool


def _engine() -> tuple[Engine, Registry]:
    registry = Registry(Monitor(), config=ServerConfig(tool_timeout=5))

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    async def slow(seconds: float) -> str:
        """Sleep."""
        await asyncio.sleep(seconds)
        return "done"

    def broken() -> None:
        """Raise."""
        raise RuntimeError("boom")

    for fn in (add, slow, broken):
        registry.add_tool(Tool.from_function(fn))
    return Engine(registry, ServerInfo("test", "1.2.3", instructions="Be kind.")), registry


def _request(method: str, params: Any = None, msg_id: Any = 1) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


async def _ask(
    engine: Engine, method: str, params: Any = None, session: Session | None = None
) -> dict[str, Any]:
    return await engine.handle_request(_request(method, params), session or Session(None), {}, None)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_initialize_answers_the_clients_version(version: str) -> None:
    engine, _ = _engine()
    session = engine.sessions.create()
    answer = asyncio.run(
        _ask(
            engine,
            "initialize",
            {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}},
            session,
        )
    )
    result = answer["result"]
    assert result["protocolVersion"] == version == session.version
    assert result["serverInfo"] == {"name": "test", "version": "1.2.3"}
    assert result["instructions"] == "Be kind."
    expected = {"tools", "resources", "prompts", "logging"} | (
        {"completions"} if version >= "2025-03-26" else set()
    )
    assert set(result["capabilities"]) == expected
    assert session.client_info == {"name": "c", "version": "1"}


def test_unknown_client_version_gets_our_latest() -> None:
    assert negotiate("1999-01-01") == SUPPORTED_VERSIONS[-1]
    assert negotiate(None) == SUPPORTED_VERSIONS[-1]


def test_ping_and_set_level_answer_exactly_empty_objects() -> None:
    engine, _ = _engine()
    session = Session(None)
    assert asyncio.run(_ask(engine, "ping"))["result"] == {}
    assert asyncio.run(_ask(engine, "logging/setLevel", {"level": "warning"}, session))["result"] == {}
    assert session.log_level == "warning"
    assert not session.wants_log("info") and session.wants_log("error")


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("no/such/method", None, -32601),
        ("tools/call", {"arguments": {}}, -32602),
        ("tools/call", {"name": "nope"}, -32602),
        ("tools/call", {"name": "add", "arguments": [1, 2]}, -32602),
        ("logging/setLevel", {"level": "loud"}, -32602),
        ("resources/read", {"uri": "missing://x"}, -32002),
        ("prompts/get", {"name": "nope"}, -32602),
        (
            "completion/complete",
            {"ref": {"type": "ref/other"}, "argument": {"name": "a", "value": ""}},
            -32602,
        ),
        ("server/discover", {}, -32601),  # 2026-07-28 only
        ("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}, -32020),
    ],
)
def test_protocol_errors_carry_their_codes(method: str, params: Any, code: int) -> None:
    engine, _ = _engine()
    answer = asyncio.run(_ask(engine, method, params))
    assert answer["error"]["code"] == code, answer
    assert answer["id"] == 1


def test_unsupported_version_names_what_we_speak() -> None:
    with pytest.raises(UnsupportedVersion) as caught:
        check_modern("2099-01-01")
    assert caught.value.data == {"supported": list(ALL_VERSIONS), "requested": "2099-01-01"}
    assert ("2026-07-28", *reversed(SUPPORTED_VERSIONS)) == ALL_VERSIONS
    assert check_modern("2026-07-28") == "2026-07-28"
    with pytest.raises(UnsupportedVersion):
        check_modern("2025-11-25")  # a handshake revision is not served without initialize


def test_a_tools_failure_is_a_result_not_a_protocol_error() -> None:
    engine, _ = _engine()
    result = asyncio.run(_ask(engine, "tools/call", {"name": "broken"}))["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == "RuntimeError: boom"


def test_an_unexpected_failure_is_a_generic_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    engine, registry = _engine()

    def explode(version: str) -> dict[str, Any]:
        raise KeyError("secret detail")

    registry.list_tools = explode  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="nbmcp"):
        answer = asyncio.run(_ask(engine, "tools/list"))
    assert answer["error"] == {"code": -32603, "message": "Internal error"}
    assert "secret detail" in caplog.text


def test_cancelled_notification_stops_the_call() -> None:
    engine, _ = _engine()
    session = engine.sessions.create()

    async def scenario() -> dict[str, Any]:
        call = asyncio.ensure_future(
            engine.handle_request(
                _request("tools/call", {"name": "slow", "arguments": {"seconds": 30}}, 7), session, {}, None
            )
        )
        for _ in range(100):
            if engine._running:
                break
            await asyncio.sleep(0.01)
        engine.handle_notification(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}, session
        )
        return await asyncio.wait_for(call, 5)

    answer = asyncio.run(scenario())
    assert answer["error"]["code"] == -32800


def test_tools_list_is_built_once_and_rebuilt_on_change() -> None:
    engine, registry = _engine()
    first = asyncio.run(_ask(engine, "tools/list"))["result"]
    assert asyncio.run(_ask(engine, "tools/list"))["result"] is first
    registry.remove_tool("broken")
    second = asyncio.run(_ask(engine, "tools/list"))["result"]
    assert second is not first
    assert [t["name"] for t in second["tools"]] == ["add", "slow"]


def test_tools_list_fits_each_version() -> None:
    engine, _ = _engine()
    new = asyncio.run(_ask(engine, "tools/list", session=Session(None, "2025-11-25")))["result"]["tools"][0]
    old = asyncio.run(_ask(engine, "tools/list", session=Session(None, "2024-11-05")))["result"]["tools"][0]
    assert "outputSchema" in new and "outputSchema" not in old
    call_new = asyncio.run(
        _ask(
            engine, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, Session(None, "2025-06-18")
        )
    )["result"]
    call_old = asyncio.run(
        _ask(
            engine, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, Session(None, "2025-03-26")
        )
    )["result"]
    assert call_new["structuredContent"] == {"result": 3}
    assert "structuredContent" not in call_old and call_old["content"][0]["text"] == "3"


def test_sessions_expire_when_idle() -> None:
    sessions = Sessions(ttl=0.0)
    session = sessions.create()
    assert session.id is not None and len(session.id) == 32
    assert sessions.get(session.id) is None
    assert sessions.remove("nope") is False


def test_session_outbox_is_bounded() -> None:
    session = Session("s1")
    for i in range(5000):
        session.push({"n": i})
    assert len(session.outbox) == 1000
    assert session.outbox[-1] == {"n": 4999}
