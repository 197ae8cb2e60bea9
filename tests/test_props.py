"""Property tests against a real server on a real port.

(a) Schemas: for generated signatures (int, float, str, bool, Literal, Enum, Optional, list[int],
    dict[str, int], TypedDict, pydantic model, Annotated[..., Field(description=...)], defaults)
    the advertised ``inputSchema`` is valid JSON Schema 2020-12, every value generated for those
    types validates against it, and a real ``tools/call`` of a tool that echoes its arguments
    gives back exactly what was sent (defaults filled in).
(b) Names: any identifier a Python function may use for a parameter (not ``_private``) can be a
    tool argument, registers without warnings and round-trips.
(c) Fuzz: whatever bytes, JSON or JSON-RPC-shaped junk is POSTed to ``/mcp``, the answer is
    never a 5xx, a JSON answer is well-formed JSON-RPC, and right after it (in the same example,
    so a crash is pinned to the input that caused it) the server still answers ``ping`` and a
    ``tools/call``, both judged by the oracle.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import json
import keyword
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from nbmcp import MCPServer, ToolError
from tests.peers import oracle
from tests.peers.peerkit import bare_client, health_url, read_messages, rpc

pytestmark = pytest.mark.timeout(300)

# When a property fails, Hypothesis's pytest plugin writes a patch with libcst, whose import
# touches the deprecated ``mypy_extensions.TypedDict``. Under ``filterwarnings = ["error"]`` that
# DeprecationWarning, raised inside a reporting hook, turns one failing example into an
# INTERNALERROR that aborts the whole session. Import it once here, quietly, so a failure is
# reported as a failure.
with warnings.catch_warnings(), contextlib.suppress(ImportError):  # no libcst: the plugin skips patches
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401

LATEST = "2025-11-25"
PLAIN = {"Content-Type": "application/json"}
INT53 = 2**53


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    MID = 2
    HIGH = 3


class Point(TypedDict):
    x: int
    label: str


class Item(BaseModel):
    qty: int
    note: str = "none"


# -- the type catalogue ---------------------------------------------------------------------------

JSON_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
JSON_INT = st.integers(-INT53, INT53)
JSON_FLOAT = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)


@dataclass(frozen=True)
class Kind:
    """One parameter type: its annotation, the JSON values it accepts, a default, how it echoes."""

    name: str
    annotation: Any
    values: st.SearchStrategy[Any]
    default: Any
    default_json: Any
    echo: Callable[[Any], Any] = lambda value: value


def _item_echo(value: dict[str, Any]) -> dict[str, Any]:
    return {"qty": value["qty"], "note": value.get("note", "none")}


KINDS: list[Kind] = [
    Kind("int", int, JSON_INT, 7, 7),
    Kind("float", float, JSON_FLOAT, 1.5, 1.5, lambda v: float(v)),
    Kind("str", str, JSON_TEXT, "dflt", "dflt"),
    Kind("bool", bool, st.booleans(), True, True),
    Kind("literal_str", Literal["a", "b", "c"], st.sampled_from(["a", "b", "c"]), "b", "b"),
    Kind("literal_int", Literal[1, 2, 3], st.sampled_from([1, 2, 3]), 2, 2),
    Kind("enum_str", Color, st.sampled_from(["red", "green", "blue"]), Color.GREEN, "green"),
    Kind("enum_int", Level, st.sampled_from([1, 2, 3]), Level.HIGH, 3),
    Kind("optional_int", Optional[int], st.none() | JSON_INT, None, None),  # noqa: UP045 - both spellings
    Kind("union_none_str", str | None, st.none() | JSON_TEXT, None, None),
    Kind("list_int", list[int], st.lists(JSON_INT, max_size=5), [1, 2], [1, 2]),
    Kind(
        "dict_str_int", dict[str, int], st.dictionaries(JSON_TEXT, JSON_INT, max_size=4), {"k": 1}, {"k": 1}
    ),
    Kind(
        "typeddict",
        Point,
        st.fixed_dictionaries({"x": JSON_INT, "label": JSON_TEXT}),
        {"x": 0, "label": "origin"},
        {"x": 0, "label": "origin"},
    ),
    Kind(
        "model",
        Item,
        st.fixed_dictionaries({"qty": JSON_INT}, optional={"note": JSON_TEXT}),
        Item(qty=1),
        {"qty": 1, "note": "none"},
        _item_echo,
    ),
]


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    has_default: bool
    description: str | None


_counter = itertools.count()


def build_echo(params: list[Param]) -> Callable[..., Any]:
    """``def echo_N(p0: T0, p1: T1 = D1, ...) -> dict[str, Any]: return <its arguments>``."""
    ordered = sorted(params, key=lambda p: p.has_default)  # Python wants required ones first
    namespace: dict[str, Any] = {"Any": Any}
    parts = []
    for i, param in enumerate(ordered):
        annotation = param.kind.annotation
        if param.description is not None:
            annotation = Annotated[annotation, Field(description=param.description)]
        namespace[f"T{i}"] = annotation
        if param.has_default:
            namespace[f"D{i}"] = param.kind.default
            parts.append(f"{param.name}: T{i} = D{i}")
        else:
            parts.append(f"{param.name}: T{i}")
    fn_name = f"echo_{next(_counter)}"
    source = f"def {fn_name}({', '.join(parts)}) -> 'dict[str, Any]':\n    return dict(locals())\n"
    exec(compile(source, f"<generated {fn_name}>", "exec"), namespace)
    fn: Callable[..., Any] = namespace[fn_name]
    fn.__doc__ = "Echo the arguments back."
    return fn


@st.composite
def signatures(draw: st.DrawFn) -> list[Param]:
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=6))
    descriptions = st.none() | st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30)
    return [
        Param(f"p{i}_{kind.name}", kind, draw(st.booleans()), draw(descriptions))
        for i, kind in enumerate(kinds)
    ]


# -- one server for the whole module ---------------------------------------------------------------


@dataclass
class Running:
    server: MCPServer
    url: str
    http: httpx.Client
    session_id: str = ""

    def call(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.http.post(self.url, content=content, headers=headers or PLAIN)


def fuzz_server() -> MCPServer:
    server = MCPServer("props", tool_timeout=10)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    @server.tool
    def echo_any(value: Any = None, nested: dict[str, Any] | None = None) -> dict[str, Any]:
        """Echo."""
        return {"value": value, "nested": nested}

    @server.tool
    def refuse(reason: str = "no") -> str:
        """Fails."""
        raise ToolError(reason)

    @server.tool
    def explode() -> str:
        """Crashes."""
        raise RuntimeError("boom")

    @server.tool
    def lines(n: int = 2):  # type: ignore[no-untyped-def]
        """Generator."""
        for i in range(min(n, 20)):
            yield f"line {i}"

    @server.tool
    def model_arg(item: Item, point: Point | None = None, color: Color = Color.RED) -> dict[str, Any]:
        """Typed arguments."""
        return {"item": item.model_dump(), "point": point, "color": color.value}

    @server.resource("data://static")
    def static() -> str:
        return "static"

    @server.resource("data://{name}/detail", completions={"name": lambda prefix: [prefix + "x", "fixed"]})
    def detail(name: str) -> dict[str, str]:
        return {"name": name}

    @server.prompt(completions={"name": ["alice", "bob", "carol"]})
    def greet(name: str) -> str:
        """Greet."""
        return f"hi {name}"

    return server


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    server = fuzz_server()
    url = server.start()
    try:
        with bare_client() as http:
            running = Running(server, url, http)
            init = rpc(
                "initialize",
                {
                    "protocolVersion": LATEST,
                    "capabilities": {},
                    "clientInfo": {"name": "fuzz", "version": "0"},
                },
                msg_id=0,
            )
            response = running.call(init)
            oracle.validate_answer("initialize", response.json(), LATEST, request_id=0)
            running.session_id = response.headers["mcp-session-id"]
            yield running
    finally:
        server.stop()


def list_tools(running: Running) -> dict[str, dict[str, Any]]:
    response = running.call(rpc("tools/list", msg_id=1))
    assert response.status_code == 200, response.text
    result = oracle.validate_answer("tools/list", response.json(), LATEST, request_id=1)
    return {tool["name"]: tool for tool in result["tools"]}


def call_tool(running: Running, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    response = running.call(rpc("tools/call", {"name": name, "arguments": arguments}, msg_id=2))
    assert response.status_code == 200, response.text
    return oracle.validate_answer("tools/call", response.json(), LATEST, request_id=2)


# -- (a) schemas round-trip ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=signatures(), data=st.data())
def test_schema_round_trip(running: Running, params: list[Param], data: st.DataObject) -> None:
    fn = build_echo(params)
    running.server.add_tool(fn)
    try:
        tool = list_tools(running)[fn.__name__]
        schema = tool["inputSchema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert set(schema["properties"]) == {p.name for p in params}
        assert set(schema.get("required", [])) == {p.name for p in params if not p.has_default}
        for param in params:
            prop = schema["properties"][param.name]
            if param.description is not None:
                assert prop.get("description") == param.description, prop
            if param.has_default:
                assert prop.get("default") == param.kind.default_json, prop
        if "outputSchema" in tool:
            jsonschema.Draft202012Validator.check_schema(tool["outputSchema"])
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

        for _ in range(3):
            arguments: dict[str, Any] = {}
            expected: dict[str, Any] = {}
            for param in params:
                omit = param.has_default and data.draw(st.booleans(), label=f"omit {param.name}")
                if omit:
                    expected[param.name] = param.kind.default_json
                else:
                    value = data.draw(param.kind.values, label=param.name)
                    arguments[param.name] = value
                    expected[param.name] = param.kind.echo(value)
            errors = [e.message for e in validator.iter_errors(arguments)]
            assert not errors, f"the advertised schema rejects valid arguments {arguments!r}: {errors}"
            result = call_tool(running, fn.__name__, arguments)
            assert result["isError"] is False, result
            echoed = result["structuredContent"]
            assert echoed == expected, (arguments, echoed)
            assert json.loads(result["content"][0]["text"]) == expected
            if "outputSchema" in tool:
                jsonschema.validate(echoed, tool["outputSchema"], cls=jsonschema.Draft202012Validator)
    finally:
        running.server.remove_tool(fn.__name__)


@settings(max_examples=50, deadline=None)
@given(params=signatures().filter(bool), data=st.data())
def test_schema_rejects_what_the_tool_rejects(
    running: Running, params: list[Param], data: st.DataObject
) -> None:
    """A value of the wrong JSON type is refused by the schema and by the tool (isError, naming it)."""
    fn = build_echo(params)
    running.server.add_tool(fn)
    try:
        schema = list_tools(running)[fn.__name__]["inputSchema"]
        validator = jsonschema.Draft202012Validator(schema)
        target = data.draw(st.sampled_from(params), label="target")
        base = minimal(params, data)
        # Structurally wrong values only (pydantic's lax mode coerces e.g. "5" -> 5, which a
        # JSON Schema would refuse; that leniency is not what this property is about).
        candidates = [
            bad
            for bad in ([], {"unexpected": [1]}, "not-a-number-or-member")
            if not validator.is_valid({**base, target.name: bad})
        ]
        assert candidates, f"the schema of {target.kind.name} accepts lists, objects and strings alike"
        bad = data.draw(st.sampled_from(candidates), label="bad value")
        arguments = {**base, target.name: bad}
        result = call_tool(running, fn.__name__, arguments)
        assert result["isError"] is True, (arguments, result)
        assert target.name in result["content"][0]["text"], result
    finally:
        running.server.remove_tool(fn.__name__)


def minimal(params: list[Param], data: st.DataObject) -> dict[str, Any]:
    """Required arguments only, each drawn from its type."""
    return {p.name: data.draw(p.kind.values, label=f"min {p.name}") for p in params if not p.has_default}


# -- (b) parameter names ------------------------------------------------------------------------------

_BASEMODEL_NAMES = sorted(n for n in dir(BaseModel) if not n.startswith("_"))
IDENTIFIERS = (
    st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,20}", fullmatch=True) | st.sampled_from(_BASEMODEL_NAMES)
).filter(lambda n: not keyword.iskeyword(n) and not keyword.issoftkeyword(n) and n.isidentifier())


@settings(max_examples=50, deadline=None)
@given(names=st.lists(IDENTIFIERS, min_size=1, max_size=4, unique=True), value=JSON_INT)
def test_any_parameter_name_works(running: Running, names: list[str], value: int) -> None:
    namespace: dict[str, Any] = {"_as_dict": dict}  # a parameter may be called `dict`
    fn_name = f"named_{next(_counter)}"
    signature = ", ".join(f"{n}: int" for n in names)
    source = f"def {fn_name}({signature}) -> 'dict[str, int]':\n    return _as_dict(locals())\n"
    exec(compile(source, "<generated>", "exec"), namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            running.server.add_tool(namespace[fn_name])
        except Exception as exc:  # a valid Python signature must be servable
            raise AssertionError(
                f"parameters {names} cannot be registered: {type(exc).__name__}: {exc}"
            ) from exc
    try:
        assert not [str(w.message) for w in caught], f"registering parameters {names} warned"
        arguments = {n: value + i for i, n in enumerate(names)}
        result = call_tool(running, fn_name, arguments)
        assert result["isError"] is False, result
        assert result["structuredContent"] == arguments
    finally:
        running.server.remove_tool(fn_name)


@pytest.mark.parametrize(
    "name", ["json", "copy", "schema", "validate", "dict", "construct", "model_config", "model_fields"]
)
def test_parameter_names_like_model_attributes(running: Running, name: str) -> None:
    """The explicit cases behind the property above: ordinary words that BaseModel also uses."""
    test_any_parameter_name_works.hypothesis.inner_test(running, [name], 5)  # type: ignore[attr-defined]


# -- (c) fuzz -----------------------------------------------------------------------------------------

METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "server/discover",
    "sampling/createMessage",
    "",
]
TOOL_NAMES = ["add", "echo_any", "refuse", "explode", "lines", "model_arg", "missing", ""]
VERSIONS = [*oracle.HANDSHAKE_VERSIONS, "2026-07-28", "1.0", "", "2025-13-45", "\u00e9\u00e9"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
odd_ids = st.one_of(
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.text(max_size=20),
    st.none(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.just({"id": 1}),
)
metas = st.fixed_dictionaries(
    {},
    optional={
        "progressToken": odd_ids,
        "io.modelcontextprotocol/protocolVersion": st.sampled_from(VERSIONS) | json_values,
    },
)
params_strategy = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from([*TOOL_NAMES, "greet"]) | json_values,
            "arguments": st.fixed_dictionaries(
                {},
                optional={
                    "a": json_values,
                    "b": json_values,
                    "n": st.integers(-5, 30) | json_values,
                    "value": json_values,
                    "nested": json_values,
                    "item": json_values,
                    "reason": json_values,
                    "name": json_values,
                },
            )
            | json_values,
            "uri": st.sampled_from(["data://static", "data://x/detail", "data://", "nope"]) | json_values,
            "_meta": metas | json_values,
            "protocolVersion": st.sampled_from(VERSIONS) | json_values,
            "capabilities": json_values,
            "clientInfo": json_values,
            "level": st.sampled_from(["debug", "info", "emergency", "loud"]) | json_values,
            "requestId": odd_ids,
            "ref": st.fixed_dictionaries(
                {"type": st.sampled_from(["ref/prompt", "ref/resource", "ref/other"]) | json_values},
                optional={
                    "name": st.sampled_from(["greet", "nope"]) | json_values,
                    "uri": st.sampled_from(["data://{name}/detail", "data://static"]) | json_values,
                },
            )
            | json_values,
            "argument": st.fixed_dictionaries(
                {}, optional={"name": st.sampled_from(["name", "x"]) | json_values, "value": json_values}
            )
            | json_values,
            "context": st.fixed_dictionaries({}, optional={"arguments": json_values}) | json_values,
        },
    ),
)
rpc_messages = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2.0, None]),
        "id": odd_ids,
        "method": st.sampled_from(METHODS) | st.text(max_size=20) | json_scalars,
        "params": params_strategy,
        "result": json_values,
        "error": json_values,
    },
)


cancel_notes = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "method": st.just("notifications/cancelled")},
    optional={"params": st.fixed_dictionaries({}, optional={"requestId": odd_ids, "reason": json_values})},
)
LIVE_SESSION = "<live session>"  # replaced by the fixture's real session id


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    inner = b'{"a":' * depth + b"1" + b"}" * depth
    if kind == "args":
        return (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo_any","arguments":{"value":'
            + inner
            + b"}}}"
        )
    return inner


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    rpc_messages.map(lambda m: json.dumps(m).encode()),
    st.lists(rpc_messages, max_size=5).map(lambda b: json.dumps(b).encode()),
    st.lists(rpc_messages | cancel_notes, max_size=3).map(lambda b: json.dumps(b).encode()),
    cancel_notes.map(lambda m: json.dumps(m).encode()),
    st.builds(nested, st.integers(1, 3000), st.sampled_from(["list", "dict", "args"])),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"NaN", b"1e400", b'"\\ud800"', b"\xef\xbb\xbf{}"]),
)
header_sets = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", ""]
        ),
        "Accept": st.sampled_from(
            [
                "application/json",
                "text/event-stream",
                "application/json, text/event-stream",
                "*/*",
                "image/png",
                "",
            ]
        ),
        "MCP-Protocol-Version": st.sampled_from(VERSIONS),
        "Mcp-Session-Id": st.sampled_from(["", "nope", "x" * 200, LIVE_SESSION, LIVE_SESSION]),
        "Last-Event-ID": st.sampled_from(["", "a_1", "zzz"]),
    },
)


def check_answer(response: httpx.Response) -> None:
    """Beyond "no 5xx": a JSON answer is JSON-RPC; an SSE answer's events are JSON-RPC."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    ctype = response.headers.get("content-type", "")
    if response.status_code == 202:
        assert response.content == b""
        return
    if not (ctype.startswith("application/json") or ctype.startswith("text/event-stream")):
        return
    for message in read_messages(response):
        items = message if isinstance(message, list) else [message]
        for item in items:
            if isinstance(item, dict) and "method" in item:  # a server notification/request on a stream
                continue
            assert isinstance(item, dict) and item.get("jsonrpc") == "2.0", item
            assert ("result" in item) != ("error" in item), item
            if "error" in item:
                assert isinstance(item["error"].get("code"), int), item
                assert isinstance(item["error"].get("message"), str), item
            ident = item.get("id")
            assert ident is None or (isinstance(ident, (str, int)) and not isinstance(ident, bool)), item
            if isinstance(ident, float):
                assert math.isfinite(ident)


CANCEL = {"jsonrpc": "2.0", "method": "notifications/cancelled"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, headers=header_sets)
@example(body=json.dumps({**CANCEL, "params": {"requestId": {"id": 1}}}).encode(), headers={})
@example(
    body=json.dumps({**CANCEL, "params": {"requestId": [1]}}).encode(),
    headers={"Mcp-Session-Id": LIVE_SESSION},
)
@example(body=nested(2000, "args"), headers={"Accept": "text/event-stream"})
@example(body=b"\xef\xbb\xbf{}", headers={})
def test_fuzz_never_5xx(running: Running, body: bytes, headers: dict[str, str]) -> None:
    if headers.get("Mcp-Session-Id") == LIVE_SESSION:
        headers = {**headers, "Mcp-Session-Id": running.session_id}
    raw_headers = {name: value.encode("utf-8") for name, value in headers.items()}  # non-ASCII too
    response = running.http.post(running.url, content=body, headers=raw_headers, timeout=30)
    check_answer(response)
    assert_alive(running)


def assert_alive(running: Running) -> None:
    """The server survived the input just sent: it answers ``ping``, calls a tool, is healthy."""
    response = running.call(rpc("ping", msg_id="alive"))
    assert response.status_code == 200, (response.status_code, response.text[:500])
    assert oracle.validate_answer("ping", response.json(), LATEST, request_id="alive", expect="result") == {}
    assert call_tool(running, "add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    assert running.http.get(health_url(running.url)).status_code == 200
