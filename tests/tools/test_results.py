"""What tools return, as MCP content: text, structured data, images, explicit blocks, errors."""

from __future__ import annotations

import base64
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from pydantic import BaseModel

from nbmcp import Context, MCPServer, ToolError, audio, image, resource, resource_link, text
from tests.tools.helpers import call


class Reading(BaseModel):
    city: str
    celsius: float


@dataclass
class Pair:
    a: int
    b: str


def _server(*fns: Any, **options: Any) -> MCPServer:
    server = MCPServer("t", **options)
    for fn in fns:
        server.tool(fn)
    return server


def test_str_is_text_only() -> None:
    def hello(name: str) -> str:
        return f"hi {name}"

    assert call(_server(hello).registry, "hello", {"name": "Ada"}) == {
        "content": [{"type": "text", "text": "hi Ada"}], "isError": False
    }  # fmt: skip


def test_model_gives_structured_content_and_json_text() -> None:
    def read(city: str) -> Reading:
        return Reading(city=city, celsius=20.5)

    result = call(_server(read).registry, "read", {"city": "Oslo"})
    assert result["structuredContent"] == {"city": "Oslo", "celsius": 20.5}
    assert result["content"] == [{"type": "text", "text": '{"city":"Oslo","celsius":20.5}'}]


@pytest.mark.parametrize(
    ("value", "structured"),
    [
        ({"a": 1}, {"a": 1}),
        ([1, 2], {"result": [1, 2]}),
        (3.5, {"result": 3.5}),
        (Pair(1, "x"), {"a": 1, "b": "x"}),
    ],
)
def test_unannotated_json_values_are_structured(value: Any, structured: Any) -> None:
    def f():  # type: ignore[no-untyped-def]
        return value

    assert call(_server(f).registry, "f")["structuredContent"] == structured


def test_return_value_must_match_the_annotation() -> None:
    def liar() -> int:
        return "not a number"  # type: ignore[return-value]

    result = call(_server(liar).registry, "liar")
    assert result["isError"] is True
    assert "does not match its return annotation" in result["content"][0]["text"]


def test_structured_content_only_for_versions_that_have_it() -> None:
    def n() -> int:
        return 1

    registry = _server(n).registry
    assert "structuredContent" in call(registry, "n", version="2025-06-18")
    assert "structuredContent" not in call(registry, "n", version="2025-03-26")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_from_bytes_and_pil() -> None:
    def raw() -> bytes:
        return _png()

    def pil() -> Any:
        return Image.new("RGB", (3, 3), "blue")

    registry = _server(raw, pil).registry
    for name in ("raw", "pil"):
        block = call(registry, name)["content"][0]
        assert block["type"] == "image" and block["mimeType"] == "image/png"
        assert base64.b64decode(block["data"]).startswith(b"\x89PNG")


def test_non_image_bytes_become_a_blob_resource() -> None:
    def blob() -> bytes:
        return b"\x00\x01binary"

    block = call(_server(blob).registry, "blob")["content"][0]
    assert block["type"] == "resource"
    assert base64.b64decode(block["resource"]["blob"]) == b"\x00\x01binary"


def test_explicit_content_helpers() -> None:
    def mixed() -> list[Any]:
        return [
            text("hello"),
            image(_png()),
            audio(b"RIFFxxxx", "audio/wav"),
            resource("file:///notes.txt", "some notes"),
            resource_link("file:///big.csv", "big.csv", mime_type="text/csv", size=10),
        ]

    blocks = call(_server(mixed).registry, "mixed")["content"]
    assert [b["type"] for b in blocks] == ["text", "image", "audio", "resource", "resource_link"]
    assert blocks[3]["resource"] == {
        "uri": "file:///notes.txt",
        "mimeType": "text/plain",
        "text": "some notes",
    }
    assert blocks[4] == {
        "type": "resource_link",
        "uri": "file:///big.csv",
        "name": "big.csv",
        "mimeType": "text/csv",
        "size": 10,
    }


def test_none_is_empty_content() -> None:
    def nothing() -> None:
        return None

    assert call(_server(nothing).registry, "nothing") == {"content": [], "isError": False}


def test_tool_error_and_exceptions_are_error_results() -> None:
    def refuse() -> str:
        raise ToolError("no city given")

    def crash() -> str:
        raise ValueError("bad input 42")

    registry = _server(refuse, crash).registry
    assert call(registry, "refuse") == {
        "content": [{"type": "text", "text": "no city given"}],
        "isError": True,
    }
    assert call(registry, "crash")["content"][0]["text"] == "ValueError: bad input 42"


def test_masked_errors_hide_the_details() -> None:
    def crash() -> str:
        raise ValueError("secret path /etc/x")

    result = call(_server(crash, mask_error_details=True).registry, "crash")
    assert result["isError"] and "secret" not in result["content"][0]["text"]


def test_invalid_arguments_are_a_readable_error_result() -> None:
    def add(a: int, b: int) -> int:
        return a + b

    result = call(_server(add).registry, "add", {"a": "x"})
    assert result["isError"] is True
    message = result["content"][0]["text"]
    assert "a: Input should be a valid integer" in message and "b: Field required" in message


def test_sync_async_and_generator_tools() -> None:
    main = threading.get_ident()
    seen: dict[str, int] = {}

    def sync_tool() -> str:
        seen["sync"] = threading.get_ident()
        return "sync"

    async def async_tool() -> str:
        return "async"

    def gen_tool(n: int) -> Any:
        for i in range(n):
            yield f"chunk {i}"

    async def agen_tool(n: int) -> Any:
        for i in range(n):
            yield {"i": i}

    registry = _server(sync_tool, async_tool, gen_tool, agen_tool).registry
    assert call(registry, "sync_tool")["content"][0]["text"] == "sync"
    assert seen["sync"] != main, "sync tools run in a worker thread"
    assert call(registry, "async_tool")["content"][0]["text"] == "async"
    assert [b["text"] for b in call(registry, "gen_tool", {"n": 3})["content"]] == [
        "chunk 0",
        "chunk 1",
        "chunk 2",
    ]
    assert [b["text"] for b in call(registry, "agen_tool", {"n": 2})["content"]] == ['{"i":0}', '{"i":1}']


def test_timeout_answers_with_an_error() -> None:
    release = threading.Event()

    def sleepy() -> str:
        release.wait(10)
        return "late"

    server = _server(sleepy, tool_timeout=0.2)
    server.registry.executor = ThreadPoolExecutor(1)
    started = time.monotonic()
    result = call(server.registry, "sleepy")
    assert time.monotonic() - started < 1.5
    release.set()
    server.registry.executor.shutdown(wait=True)
    assert result["isError"] and "timed out after 0.2 s" in result["content"][0]["text"]


def test_a_tool_raising_timeout_error_itself_is_not_called_a_timeout() -> None:
    def own() -> str:
        raise TimeoutError("upstream slow")

    result = call(_server(own).registry, "own")
    assert result["content"][0]["text"] == "TimeoutError: upstream slow"


def test_context_is_injected_and_not_in_the_schema() -> None:
    def who(ctx: Context, greeting: str = "hi") -> str:
        return f"{greeting} {ctx.tool_name} {ctx.session_id}"

    server = _server(who)
    assert set(server.tools["who"].args.schema["properties"]) == {"greeting"}
    assert call(server.registry, "who")["content"][0]["text"] == "hi who None"


def test_calls_are_recorded_by_the_monitor() -> None:
    def ok() -> str:
        return "fine"

    def bad() -> str:
        raise ToolError("nope")

    server = _server(ok, bad)
    call(server.registry, "ok")
    call(server.registry, "bad")
    assert server.monitor.total_calls == 2
    assert server.monitor.stats["bad"].errors == 1
    assert [e.ok for e in server.monitor.journal] == [True, False]
    assert server.monitor.journal[-1].error == "nope"
