"""What tools return, as MCP content: text, structured data, images, explicit blocks, errors."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Optional

import pytest
from PIL import Image
from pydantic import BaseModel, TypeAdapter, ValidationError

from nbmcp import Context, MCPServer, ToolError, audio, image, resource, resource_link, text
from nbmcp.tools.schema import CoreAdapter, build_output, format_validation_error
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
    finished = threading.Event()

    def sleepy() -> str:
        release.wait(30)
        finished.set()
        return "late"

    server = _server(sleepy, tool_timeout=0.2)
    server.registry.executor = ThreadPoolExecutor(1)
    result = call(server.registry, "sleepy")
    # answered while the tool still blocks: the answer did not wait for it (however slow the machine)
    assert not finished.is_set()
    release.set()
    server.registry.executor.shutdown(wait=True)
    assert finished.is_set()
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


PLAIN_RETURNS: list[tuple[Any, list[Any]]] = [
    (int, [3, -7, 2**70, "12", 3.0, 3.5, True, None, "x"]),
    (float, [1.5, 2, "2.5", float("inf"), float("nan"), True, None, "x"]),
    (bool, [True, False, 1, 0, "yes", "off", 2, None]),
    (list, [[1, "a", None], (1, 2), "ab", None]),
    (dict, [{"a": 1, 2: [3]}, [], None]),
    (list[int], [[1, 2], ["3"], [1.5], (4, 5), "12", None]),
    (list[Any], [[1, {"a": b"x"}], None]),
    (dict[str, Any], [{"a": [1, 2]}, {1: 2}, None]),
    (dict[str, float], [{"a": 1}, {"a": "x"}, {"b": float("inf")}]),
    (list[dict[str, int]], [[{"a": 1}], [{"a": "2"}], [{"a": None}]]),
    (Optional[int], [None, 1, "2", "x"]),  # noqa: UP045 - this spelling is what is tested
    (int | None, [None, 1, "x"]),
    (list[str] | None, [None, ["a"], [1]]),
    (Literal["a", "b"], ["a", "b", "c", None]),
    (Literal[1, 2, 3], [1, 3, 4, "1"]),
]


def _returning(annotation: Any) -> Any:
    def f():  # type: ignore[no-untyped-def]
        return None

    f.__annotations__["return"] = annotation
    return f


def _outcome(dump: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("ok", dump(value))
    except ValueError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize(("annotation", "values"), PLAIN_RETURNS, ids=lambda a: str(a)[:40])
def test_plain_return_types_match_pydantic_without_it(annotation: Any, values: list[Any]) -> None:
    """The pydantic-core shortcut gives pydantic's output schema, values and errors exactly."""
    fast = build_output(_returning(annotation), "f")
    assert isinstance(fast.adapter, CoreAdapter), "a plain type takes the pydantic-core shortcut"
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    schema = adapter.json_schema(mode="serialization")
    if schema.get("type") == "object":
        assert fast.schema == schema and fast.wrap is False
    else:
        assert fast.wrap is True
        assert fast.schema == {"type": "object", "properties": {"result": schema}, "required": ["result"]}

    def by_pydantic(value: Any) -> Any:
        try:
            return adapter.dump_python(adapter.validate_python(value), mode="json")
        except ValidationError as exc:  # worded as OutputSpec.dump words it
            raise ValueError(
                "the tool returned a value that does not match its return annotation: "
                + format_validation_error(exc).removeprefix("Invalid arguments: ")
            ) from None

    for value in values:
        mine, theirs = _outcome(fast.dump, value), _outcome(by_pydantic, value)
        assert repr(mine) == repr(theirs), (annotation, value)  # repr, so that nan matches nan


@pytest.mark.parametrize(
    "annotation",
    [Literal["only"], Optional[Any], tuple[int, int], set[int], dict[int, str], Reading, Pair, bytes | int],  # noqa: UP045
    ids=str,
)
def test_other_return_types_take_the_pydantic_path(annotation: Any) -> None:
    assert not isinstance(build_output(_returning(annotation), "f").adapter, CoreAdapter)


PLAIN_TOOL = '''
import sys
from nbmcp import MCPServer
from tests.tools.helpers import call

server = MCPServer("x")

@server.tool
def add(a: int, b: int = 2, tags: list[str] | None = None) -> dict[str, int]:
    """Add.

    Args:
        a: The first.
    """
    return {"sum": a + b}

assert call(server.registry, "add", {"a": 1})["structuredContent"] == {"sum": 3}
assert "outputSchema" in server.registry.tools["add"].definition("2025-06-18")
print(sorted(m for m in sys.modules if m == "pydantic" or m.startswith("pydantic.")))
'''


def test_a_plain_tool_is_listed_and_called_without_importing_pydantic() -> None:
    """pydantic-core only: pydantic's model machinery (~50 ms to import) waits for the first model."""
    proc = subprocess.run(
        [sys.executable, "-c", PLAIN_TOOL], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
