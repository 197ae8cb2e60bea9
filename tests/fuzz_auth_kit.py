"""Hypothesis strategies for ``/mcp`` in the fuzz run with auth on (``tests/test_fuzz_auth.py``), and the
pieces the other doors' strategies (:mod:`tests.fuzz_auth_doors`) share.

A strategy draws :class:`Req` values: one HTTP request each, described rather than built, so
the parts only the live server knows (its keys, a real OAuth token, a live session id, the
client it registered) are named by placeholders here and filled in when the request is sent.
``Req.rpc`` keeps what the test knows about the JSON-RPC body it carries (the method of a
single request, the method of each id in a batch), so the answer can be judged by the oracle
against the right result definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from tests.peers import oracle

LATEST = "2025-11-25"
BODY_LIMIT = 256 * 1024
"""The server's ``max_body_bytes`` for the run: small enough that bodies past it are cheap to send."""

CREDENTIALS = (
    "none",
    "wrong-key",
    "owner-key",
    "owner-bearer",
    "ci-key",
    "garbage-bearer",
    "empty-bearer",
    "basic",
    "expired-jwt",
    "forged-jwt",
    "wrong-audience-jwt",
    "unsigned-jwt",
    "token",
    "write-token",
    "wrong-key-and-token",
    "non-ascii-key",
    "long-bearer",
    "non-ascii-bearer",
    "lower-case-scheme",
)
"""Names of the ``Authorization`` / ``X-API-Key`` headers a request carries (filled in by the test)."""
GOOD_CREDENTIALS = ("owner-key", "owner-bearer", "ci-key", "token", "write-token")
credential_names = st.sampled_from(GOOD_CREDENTIALS) | st.sampled_from(CREDENTIALS)
"""Half the time one that lets the request in, so the fuzz reaches the doors behind the chain."""

SESSIONS = ("owner", "owner", "token", "garbage", "long", "non-ascii")
"""``Mcp-Session-Id`` values: live sessions (the owner key's, the OAuth token's) or bad ones."""

SPEC_METHODS = tuple(sorted(oracle._spec(LATEST).method_defs))
"""Every request and notification method of MCP 2025-11-25, from its published schema (via the oracle)."""
UNKNOWN_METHODS = ("server/discover", "tools/unknown", "Tools/List", "tools/call/", "", "rpc.discover")
TOOLS = ("add", "echo", "steps", "lines", "save", "explode", "whoami")
VERSIONS = (*KNOWN_PROTOCOL_VERSIONS, "1.0", "", "2025-13-45", "\u00e9t\u00e9")

Headers = dict[str, str]


@dataclass
class Req:
    """One request to send: ``door`` is ``mcp``, ``rest``, ``schema`` or ``oauth``."""

    door: str
    method: str
    path: str
    credential: str = "none"
    headers: Headers = field(default_factory=dict)
    body: bytes | None = None
    chunked: bool = False
    session: str | None = None
    rpc: dict[str, Any] = field(default_factory=dict)
    """``{"method": m}`` for one request, ``{"batch": {id: method}}`` for a batch."""

    def __repr__(self) -> str:  # bodies up to twice the limit: show their start and length only
        body = None if self.body is None else f"{self.body[:200]!r}... ({len(self.body)} bytes)"
        return (
            f"Req({self.door!r}, {self.method!r}, {self.path[:200]!r}, {self.credential!r}, "
            f"headers={self.headers!r}, body={body}, chunked={self.chunked}, session={self.session!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis prints dataclasses by field
        printer.text(repr(self))


# -- JSON values --------------------------------------------------------------------------------------

text = st.text(max_size=30)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
good_ids = st.integers(-(2**53), 2**53) | st.text(max_size=12)
any_ids = (
    good_ids | st.none() | st.booleans() | st.floats(allow_nan=False) | st.just([1]) | st.just({"id": 1})
)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# -- /mcp -----------------------------------------------------------------------------------------------

arguments = st.fixed_dictionaries(
    {},
    optional={
        "a": st.integers(-100, 100) | values,
        "b": st.integers(-100, 100) | values,
        "n": st.integers(-3, 8) | values,
        "value": values,
        "text": text | values,
    },
)
params = st.one_of(
    values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from([*TOOLS, "missing", "greet"]) | values,
            "arguments": arguments | values,
            "protocolVersion": st.sampled_from(VERSIONS) | values,
            "capabilities": st.just({}) | values,
            "clientInfo": st.just({"name": "fuzz", "version": "0"}) | values,
            "uri": st.sampled_from(["data://x", "file:///etc/passwd", ""]) | values,
            "level": st.sampled_from(["debug", "info", "emergency", "loud"]) | values,
            "requestId": any_ids,
            "taskId": text | values,
            "cursor": text | values,
            "_meta": st.fixed_dictionaries({}, optional={"progressToken": any_ids}) | values,
        },
    ),
)
methods = st.sampled_from(SPEC_METHODS) | st.sampled_from(UNKNOWN_METHODS)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "2.0", "1.0", 2.0])},
    optional={"id": any_ids, "method": methods | scalars, "params": params},
)
requests_ = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "id": good_ids, "method": methods}, optional={"params": params}
)


small = st.integers(-5, 6)
tool_calls = st.one_of(
    st.fixed_dictionaries(
        {"name": st.just("add"), "arguments": st.fixed_dictionaries({"a": small, "b": small})}
    ),
    st.fixed_dictionaries({"name": st.just("echo"), "arguments": st.fixed_dictionaries({"value": values})}),
    st.fixed_dictionaries({"name": st.just("steps"), "arguments": st.fixed_dictionaries({"n": small})}),
    st.fixed_dictionaries(
        {"name": st.just("lines"), "arguments": st.fixed_dictionaries({}, optional={"n": small})}
    ),
    st.fixed_dictionaries({"name": st.just("save"), "arguments": st.fixed_dictionaries({"text": text})}),
    st.fixed_dictionaries(
        {
            "name": st.just("explode"),
            "arguments": st.fixed_dictionaries({"reason": st.sampled_from(["x", "tool"])}),
        }
    ),
    st.fixed_dictionaries({"name": st.just("whoami"), "arguments": st.just({})}),
).flatmap(
    lambda call: st.fixed_dictionaries(
        {"name": st.just(call["name"]), "arguments": st.just(call["arguments"])},
        optional={"_meta": st.fixed_dictionaries({"progressToken": good_ids})},
    )
)
plausible_params: st.SearchStrategy[tuple[str, Any]] = st.one_of(
    st.tuples(st.just("tools/call"), tool_calls),
    st.tuples(
        st.sampled_from(["tools/list", "resources/list", "prompts/list", "resources/templates/list"]),
        st.just({}),
    ),
    st.tuples(st.just("ping"), st.none()),
    st.tuples(
        st.just("logging/setLevel"), st.fixed_dictionaries({"level": st.sampled_from(["debug", "error"])})
    ),
    st.tuples(
        st.just("initialize"),
        st.fixed_dictionaries(
            {
                "protocolVersion": st.sampled_from(VERSIONS),
                "capabilities": st.just({}),
                "clientInfo": st.just({"name": "fuzz", "version": "0"}),
            }
        ),
    ),
)
plausible = st.builds(
    lambda ident, pair: (
        {"jsonrpc": "2.0", "id": ident, "method": pair[0]} | ({} if pair[1] is None else {"params": pair[1]})
    ),
    good_ids,
    plausible_params,
)
"""Requests a client could well send: their answers are results as often as errors."""


def readable_id(ident: Any) -> bool:
    """Whether a server can read ``ident`` as a request id (then its answer must echo it)."""
    return isinstance(ident, str) or (
        isinstance(ident, int) and not isinstance(ident, bool) and abs(ident) <= 2**53
    )


def single(message: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    method = message.get("method")
    if not isinstance(method, str) or "id" not in message:
        return dumps(message), {}
    rpc: dict[str, Any] = {"method": method}
    if message.get("jsonrpc") == "2.0" and readable_id(message["id"]):
        rpc["id"] = message["id"]
    return dumps(message), rpc


def batch(items: list[dict[str, Any]]) -> tuple[bytes, dict[str, Any]]:
    ids: dict[Any, Any] = {}
    for item in items:
        ident = item.get("id")
        if readable_id(ident) and isinstance(item.get("method"), str):
            ids[ident] = None if ident in ids else item["method"]  # a repeated id: no telling which
    return dumps(items), {"batch": ids}


def nested(depth: int, kind: str) -> tuple[bytes, dict[str, Any]]:
    if kind == "list":
        return b"[" * depth + b"]" * depth, {}
    inner = b'{"a":' * depth + b"1" + b"}" * depth
    if kind == "dict":
        return inner, {}
    head = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"value":'
    return head + inner + b"}}}", {"method": "tools/call", "id": 1}


def huge(size: int) -> tuple[bytes, dict[str, Any]]:
    """A ``tools/call`` of ``echo`` whose body is ``size`` bytes long (around the body limit)."""
    shell = {"jsonrpc": "2.0", "id": "huge", "method": "tools/call", "params": {"name": "echo"}}
    pad = max(0, size - len(dumps({**shell, "params": {"name": "echo", "arguments": {"value": ""}}})))
    body = dumps({**shell, "params": {"name": "echo", "arguments": {"value": "x" * pad}}})
    return body, {"method": "tools/call", "id": "huge"}


mcp_bodies = st.one_of(
    plausible.map(single),
    plausible.map(single),
    plausible.map(single),
    requests_.map(single),
    st.lists(plausible, min_size=1, max_size=3).map(batch),
    messages.map(single),
    st.lists(messages | requests_, max_size=4).map(batch),
    values.map(lambda v: (dumps(v), {})),
    st.binary(max_size=120).map(lambda b: (b, {})),
    st.builds(nested, st.integers(1, 5000), st.sampled_from(["list", "dict", "args"])),
    st.sampled_from([BODY_LIMIT // 2, BODY_LIMIT - 64, BODY_LIMIT + 1, 2 * BODY_LIMIT]).map(huge),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"NaN", b"1e400", b'"\\ud800"', b"\xef\xbb\xbf{}"]).map(
        lambda b: (b, {})
    ),
)
GOOD_ACCEPT = "application/json, text/event-stream"
HOSTS: list[str | None] = [None] * 12 + [
    "evil.example",
    "localhost",
    "127.0.0.1",
    "[::1]:1",
    "\u00e9.example",
]
"""``Host`` values besides the real one (``None``): foreign ones are refused, loopback ones move the URL."""


@st.composite
def mcp_headers(draw: st.DrawFn) -> Headers:
    """Mostly what a client sends, often one or two things wrong (``None``: the header is left out)."""
    choices: dict[str, list[str | None]] = {
        "Content-Type": [
            *["application/json"] * 4,
            "application/json; charset=utf-8",
            "text/plain",
            "",
            None,
        ],
        "Accept": [*[GOOD_ACCEPT] * 4, "application/json", "text/event-stream", "*/*", "image/png", None],
        "MCP-Protocol-Version": [None, None, LATEST, LATEST, *VERSIONS],
        "Origin": [*[None] * 12, "https://chatgpt.com", "https://evil.example", "null", "http://127.0.0.1"],
        "Last-Event-ID": [*[None] * 6, "", "0", "zzz"],
        "Access-Control-Request-Method": [*[None] * 6, "POST", "GET", "TRACE"],
        "Host": HOSTS,
        "X-Forwarded-For": [*[None] * 8, "10.0.0.1", "::1, 1.2.3.4", "garbage", ""],
    }
    headers = {name: draw(st.sampled_from(values)) for name, values in choices.items()}
    return {name: value for name, value in headers.items() if value is not None}


@st.composite
def mcp_requests(draw: st.DrawFn) -> Req:
    if draw(st.integers(0, 3)) == 0:
        return draw(session_requests())
    method = draw(st.sampled_from(["POST"] * 8 + ["GET", "DELETE", "PUT", "OPTIONS", "PATCH", "HEAD"]))
    body, rpc = draw(mcp_bodies) if method in ("POST", "PUT", "PATCH") else (None, {})
    return Req(
        "mcp",
        method,
        "/mcp",
        credential=draw(credential_names),
        headers=draw(mcp_headers()),
        body=body,
        chunked=body is not None and draw(st.integers(0, 9)) == 0,
        session=draw(st.none() | st.sampled_from(SESSIONS)),
        rpc=rpc,
    )


OWNERS = {"owner": ("owner-key", "owner-bearer"), "token": ("token", "lower-case-scheme")}


@st.composite
def session_requests(draw: st.DrawFn) -> Req:
    """What a client in a live session sends: its own credential and session, the right headers."""
    session = draw(st.sampled_from(sorted(OWNERS)))
    method = draw(st.sampled_from(["POST"] * 6 + ["GET", "GET", "DELETE"]))
    body, rpc = draw(st.one_of(plausible.map(single), mcp_bodies)) if method == "POST" else (None, {})
    headers = {"Content-Type": "application/json", "Accept": GOOD_ACCEPT, "MCP-Protocol-Version": LATEST}
    if method == "GET":
        headers["Accept"] = "text/event-stream"
    return Req(
        "mcp", method, "/mcp", draw(st.sampled_from(OWNERS[session])), headers, body, session=session, rpc=rpc
    )
