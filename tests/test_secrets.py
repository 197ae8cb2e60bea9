"""The API key is never written anywhere a person or a log collector reads.

In process, with every logger at DEBUG: a server with ``api_key=KEY`` answers authorised,
unauthorised and wrong-key requests over real HTTP on ``/mcp``, ``/tools/NAME`` and
``/openapi.json``, and a failing tool call; then no log record, no call record and no repr
of the server or its config holds the key (nor a wrong key a client sent). In a real kernel,
``%mcp start --api-key KEY`` and ``%mcp status`` show the key in none of their IOPub messages.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer, ToolError
from tests.notebook.kernelkit import Kernel
from tests.peers.tools import free_port

pytestmark = pytest.mark.timeout(180)

KEY = "nbmcp-key-" + secrets.token_hex(16)
WRONG = "wrong-key-" + secrets.token_hex(16)
NEAR = KEY[:-4] + "zzzz"
"""A wrong key that differs from the real one only at its end: logging it would show most of the key."""
SECRETS = {"the key": KEY, "most of the key": KEY[:-4], "a wrong key": WRONG}

INIT = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "secrets", "version": "1"},
}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
LOGGERS = ("nbmcp", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "asyncio", "fastapi")
CLIENT_LOGGERS = ("httpx", "httpcore")
"""This test's own HTTP client logs the URLs it requests; those records are not the server's."""


def leaks(text: str) -> list[str]:
    """Which of :data:`SECRETS` ``text`` contains."""
    return [what for what, value in SECRETS.items() if value in text]


def test_leaks_finds_each_secret() -> None:
    assert leaks(f"header X-API-Key: {KEY}") == ["the key", "most of the key"]
    assert leaks(f"got {NEAR}") == ["most of the key"]
    assert leaks(f"got {WRONG}") == ["a wrong key"]
    assert leaks("nothing here: ***") == []


class Recorder(logging.Handler):
    """Keeps every record, formatted (message with args, exception text, stack) and raw."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)  # fills record.message and record.exc_text now, while exc_info is live
        self.records.append(record)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in LOGGERS + CLIENT_LOGGERS]
    saved = [(root, root.level)] + [(lg, lg.level) for lg in loggers]
    root.addHandler(handler)
    for lg in [root, *loggers]:
        lg.setLevel(logging.DEBUG)
    extra = [lg for lg in loggers if not lg.propagate]  # a logger that keeps its records to itself
    for lg in extra:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg in extra:
            lg.removeHandler(handler)
        for lg, level in saved:
            lg.setLevel(level)


def _debug_again() -> None:
    """uvicorn sets its loggers' levels (to the runner's ``warning``) when it starts: undo that."""
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)


def _record_texts(record: logging.LogRecord) -> list[str]:
    return [
        record.getMessage(),
        str(record.msg),
        repr(record.args),
        record.exc_text or "",
        record.stack_info or "",
        repr(record.exc_info[1]) if record.exc_info else "",
        repr({k: v for k, v in vars(record).items() if k not in ("exc_info",)}),
    ]


def _rpc(method: str, params: dict[str, Any] | None = None, id_: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        body["params"] = params
    return body


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                message: dict[str, Any] = json.loads(line[5:])
                return message
    answer: dict[str, Any] = response.json()
    return answer


def test_the_key_is_in_no_log_record_call_record_or_repr(recorder: Recorder) -> None:
    server = MCPServer("secrets", api_key=KEY)

    @server.tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    @server.tool
    def fail(reason: str) -> str:
        """Always fails."""
        raise ValueError(f"failed because {reason}")

    @server.tool
    def refuse() -> str:
        raise ToolError("refused")

    url = server.start(port=free_port())
    _debug_again()
    base = url.removesuffix("/mcp")
    statuses: dict[str, int] = {}
    denied: dict[str, int] = {}
    try:
        with httpx.Client(timeout=30) as http:
            good = {**HEADERS, "X-API-Key": KEY}
            bearer = {**HEADERS, "Authorization": f"Bearer {KEY}"}
            # authorised: a whole MCP session, with each way of sending the key
            init = http.post(url, json=_rpc("initialize", INIT), headers=good)
            assert init.status_code == 200, init.text
            session = {"mcp-session-id": init.headers.get("mcp-session-id", "")}
            version = {"mcp-protocol-version": _answer(init)["result"]["protocolVersion"]}
            good_s = {**good, **session, **version}
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(url, json=note, headers=good_s).status_code in (200, 202)
            listed = _answer(http.post(url, json=_rpc("tools/list", id_=2), headers=good_s))
            assert {t["name"] for t in listed["result"]["tools"]} == {"echo", "fail", "refuse"}
            echoed = http.post(
                url, json=_rpc("tools/call", {"name": "echo", "arguments": {"text": "hi"}}, 3), headers=good_s
            )
            assert _answer(echoed)["result"]["content"][0]["text"] == "hi"
            failed = http.post(
                url,
                json=_rpc("tools/call", {"name": "fail", "arguments": {"reason": "no good"}}, 4),
                headers={**bearer, **session, **version},
            )
            assert _answer(failed)["result"]["isError"] is True
            refused = http.post(url, json=_rpc("tools/call", {"name": "refuse"}, 5), headers=good_s)
            assert _answer(refused)["result"]["isError"] is True
            unknown = http.post(url, json=_rpc("tools/call", {"name": "nope"}, 6), headers=good_s)
            assert "error" in _answer(unknown) or _answer(unknown)["result"]["isError"] is True
            statuses["rest ok"] = http.post(
                f"{base}/tools/echo", json={"text": "x"}, headers=good
            ).status_code
            statuses["rest fail"] = http.post(
                f"{base}/tools/fail", json={"reason": "again"}, headers=bearer
            ).status_code
            statuses["rest bad args"] = http.post(
                f"{base}/tools/echo", json={"n": 1}, headers=good
            ).status_code
            statuses["rest unknown"] = http.post(f"{base}/tools/nope", json={}, headers=good).status_code
            statuses["schema"] = http.get(f"{base}/openapi.json", headers={"X-API-Key": KEY}).status_code
            # unauthorised and wrong keys, on every door, in every place a client might put one
            for label, headers in {
                "none": {},
                "wrong": {"X-API-Key": WRONG},
                "near": {"X-API-Key": NEAR},
                "wrong bearer": {"Authorization": f"Bearer {WRONG}"},
                "near bearer": {"Authorization": f"Bearer {NEAR}"},
                "basic": {"Authorization": f"Basic {NEAR}"},
            }.items():
                sent = {**HEADERS, **headers}
                denied[f"mcp {label}"] = http.post(url, json=_rpc("tools/list"), headers=sent).status_code
                denied[f"rest {label}"] = http.post(
                    f"{base}/tools/echo", json={"text": "x"}, headers=sent
                ).status_code
                denied[f"schema {label}"] = http.get(f"{base}/openapi.json", headers=headers).status_code
            denied["schema query"] = http.get(f"{base}/openapi.json", params={"api_key": NEAR}).status_code
    finally:
        server.stop()

    assert statuses == {
        "rest ok": 200,
        "rest fail": 400,
        "rest bad args": 422,
        "rest unknown": 404,
        "schema": 200,
    }
    # /mcp and /tools/NAME refuse every request without the right key; whether /openapi.json needs
    # one is the guard chain's policy (what matters here is that no answer or log shows a key)
    assert len(denied) == 19, denied
    assert {v for k, v in denied.items() if not k.startswith("schema")} == {401}, denied
    assert {v for k, v in denied.items() if k.startswith("schema")} <= {200, 401}, denied

    # the capture worked: nbmcp's own records, including the failing tool's, are here
    mine = [r for r in recorder.records if r.name.startswith("nbmcp")]
    assert any("failed because no good" in r.getMessage() for r in mine), [r.getMessage() for r in mine]
    found = []
    for record in recorder.records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        for text in _record_texts(record):
            if leaks(text):
                found.append((record.name, record.levelname, leaks(text), text[:300]))
    assert not found, found

    calls = server.monitor.journal
    assert len(calls) >= 5, calls  # MCP and REST calls were recorded
    for event in calls:
        shown = repr(event) + repr(getattr(event, "__dict__", {}))
        assert not leaks(shown), shown[:500]
    for shown in (repr(server), str(server), repr(server.config), str(server.config)):
        assert not leaks(shown), shown


def _all_text(messages: list[dict[str, Any]]) -> str:
    """Every IOPub message but ``execute_input``: the kernel's echo of the cell's own code."""
    shown = [
        {"type": m["msg_type"], "content": m["content"]} for m in messages if m["msg_type"] != "execute_input"
    ]
    return json.dumps(shown, default=str)


def test_mcp_start_with_a_key_and_mcp_status_show_it_nowhere() -> None:
    kernel = Kernel()
    try:
        kernel.run("%load_ext nbmcp").ok()
        kernel.run("%%mcp_tool\ndef add(a: int, b: int) -> int:\n    return a + b\n").ok()
        port = free_port()
        started = kernel.run(f"%mcp start --port {port} --api-key {KEY}").ok()
        url = f"http://127.0.0.1:{port}/mcp"
        assert url in started.stdout  # the cell said where it serves
        assert "X-API-Key" in started.stdout  # and how to send a key, without it
        # the key is in force: it is what the server asks for
        assert httpx.post(url, json=_rpc("tools/list"), headers=HEADERS).status_code == 401
        allowed = httpx.post(url, json=_rpc("tools/list"), headers={**HEADERS, "X-API-Key": KEY})
        assert allowed.status_code == 200
        httpx.post(url, json=_rpc("tools/list"), headers={**HEADERS, "X-API-Key": NEAR})
        shown = {
            "%mcp start": started,
            "%mcp status": kernel.run("%mcp status").ok(),
            "%mcp": kernel.run("%mcp").ok(),
            "%mcp tools": kernel.run("%mcp tools").ok(),
            "%mcp start again": kernel.run(f"%mcp start --port {port}").ok(),
        }
        assert "api key" in shown["%mcp status"].text and "required" in shown["%mcp status"].text
        # the one place the key is: the code the person typed, which the kernel echoes as it runs
        # it (nbmcp's note says so and suggests NBMCP_API_KEY instead)
        echoed = [m for m in started.messages if leaks(json.dumps(m["content"]))]
        assert [m["msg_type"] for m in echoed] == ["execute_input"], echoed
        for cell, reply in shown.items():
            everything = _all_text(reply.messages)
            assert reply.messages and any(m["msg_type"] == "status" for m in reply.messages)
            for part in (reply.stdout, reply.stderr, reply.text, json.dumps(reply.results), everything):
                assert not leaks(part), (cell, leaks(part), part[:1000])
    finally:
        kernel.shutdown()


def test_config_listing_does_not_show_a_configured_key() -> None:
    kernel = Kernel()
    try:
        kernel.run("%load_ext nbmcp").ok()
        kernel.run(f"%config NbmcpMagics.api_key = {KEY!r}").ok()
        listing = kernel.run("%config NbmcpMagics").ok()
        assert "NbmcpMagics.api_key" in listing.stdout + listing.text  # the option is listed
        assert "Current: '***'" in listing.stdout + listing.text  # as set, masked
        assert not leaks(_all_text(listing.messages)), listing.stdout
    finally:
        kernel.shutdown()
