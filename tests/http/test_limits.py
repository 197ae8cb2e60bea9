"""Limits: the rate limit, the failed-authentication limit, the client address they count by,
the cap on live sessions, streams per session and concurrent calls per principal.

Everything runs on real HTTP against servers on 127.0.0.1. Several client addresses come from
binding the client's socket to other loopback addresses (127.0.0.2, 127.0.0.3, ...). Windows
are moved with ``time_machine`` (the server's thread reads the same clock), so nothing sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import time_machine

from nbmcp import Context, MCPServer
from nbmcp.config import DEFAULT_MAX_CALLS, DEFAULT_RATE_LIMIT, ServerConfig
from nbmcp.http.chain import GuardRequest, Refusal, report_refusal
from nbmcp.http.client_address import address_key, client_address
from nbmcp.http.limits import FailedAuthLimitLayer, LimitError, parse_rate
from nbmcp.protocol.session import Sessions
from tests.http.sse_client import events
from tests.peers import oracle
from tests.peers.peerkit import RawSession, bare_client, cli_server, rpc

pytestmark = pytest.mark.timeout(120)

VERSION = "2025-11-25"
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def build(**kwargs: Any) -> MCPServer:
    server = MCPServer("limits", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return server


def client(address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x address is this machine)."""
    return bare_client(transport=httpx.HTTPTransport(local_address=address))


def call(http: httpx.Client, url: str, key: str | None = None, **headers: str) -> httpx.Response:
    sent = {**JSON, **headers}
    if key is not None:
        sent["X-API-Key"] = key
    return http.post(
        url, json=rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}), headers=sent
    )


def assert_429(response: httpx.Response, *, window: int) -> int:
    """A 429 with an integer Retry-After within the window and a JSON-RPC error body; the seconds."""
    assert response.status_code == 429, (response.status_code, response.text)
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= window
    error = oracle.validate_answer("tools/call", response.json(), VERSION, expect="error")
    assert f"retry in {retry} s" in error["message"]
    return retry


class Spy:
    """A layer that notes each request it sees, with the address the limits count it by."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.seen: list[str] = []

    async def check(self, request: GuardRequest) -> Refusal | None:
        self.seen.append(client_address(request.scope, self.config))
        return None


class Recorded:
    """A layer of the chain, wrapped to note in ``log`` that it was asked (its hooks untouched)."""

    def __init__(self, layer: Any, log: list[str]) -> None:
        self.layer = layer
        self.log = log

    async def check(self, request: GuardRequest) -> Any:
        self.log.append(type(self.layer).__name__)
        return await self.layer.check(request)

    def __getattr__(self, name: str) -> Any:  # ``refused`` when the layer has one
        return getattr(self.layer, name)


def spy_after_failed_auth_limit(server: MCPServer) -> Spy:
    """A spy placed right after the failed-auth limit: whatever reaches authentication passes it."""
    spy = Spy(server.config)
    index = next(i for i, layer in enumerate(server.guards) if isinstance(layer, FailedAuthLimitLayer))
    server.guards.insert(index + 1, spy)
    return spy


# -- the rate limit ----------------------------------------------------------------------


def test_the_101st_request_is_429_and_another_principal_is_unaffected(serve: Any) -> None:
    url = serve(build(api_keys={"a": "KA", "b": "KB"}, rate_limit="100/15min"))
    with client() as http:
        for _ in range(100):
            assert call(http, url, "KA").status_code == 200
        assert_429(call(http, url, "KA"), window=900)
        assert call(http, url, "KB").status_code == 200
        rest = http.post(
            url.removesuffix("/mcp") + "/tools/add", json={"a": 1, "b": 2}, headers={"X-API-Key": "KA"}
        )
        assert rest.status_code == 429 and int(rest.headers["retry-after"]) >= 1
        assert rest.json()["type"] == "rate_limited"
        assert call(http, url, "KB").status_code == 200


def test_the_window_resets_after_retry_after(serve: Any) -> None:
    url = serve(build(api_keys={"a": "KA"}, rate_limit="3/10s"))
    with client() as http:
        assert [call(http, url, "KA").status_code for _ in range(3)] == [200, 200, 200]
        retry = assert_429(call(http, url, "KA"), window=10)
        with time_machine.travel(time.time() + retry, tick=True):
            assert call(http, url, "KA").status_code == 200  # Retry-After was the truth
            assert [call(http, url, "KA").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("where", ["loopback", "all interfaces", "published"])
def test_auto_is_off_while_local_only_and_on_otherwise(serve: Any, where: str) -> None:
    server = build()
    if where == "published":
        server.public_url = "https://notebook.example"
    url = serve(server, host="0.0.0.0" if where == "all interfaces" else "127.0.0.1")
    url = url.replace("0.0.0.0", "127.0.0.1")
    allowed = parse_rate(DEFAULT_RATE_LIMIT).amount
    with client() as http:
        codes = [call(http, url).status_code for _ in range(allowed + 1)]
    if where == "loopback":
        assert codes == [200] * (allowed + 1)
    else:
        assert codes == [200] * allowed + [429]


def test_an_explicit_rate_holds_on_loopback_and_off_turns_it_off(serve: Any) -> None:
    local = serve(build(rate_limit="2/1h"))
    published = build(rate_limit="off")
    published.public_url = "https://notebook.example"
    open_url = serve(published)
    with client() as http:
        assert [call(http, local).status_code for _ in range(3)] == [200, 200, 429]
        assert {
            call(http, open_url).status_code for _ in range(parse_rate(DEFAULT_RATE_LIMIT).amount + 5)
        } == {200}
        assert http.get(local.removesuffix("/mcp") + "/health").status_code == 200  # never counted


@pytest.mark.parametrize("value", ["100", "100/", "0/1min", "10/0s", "10/15m", "ten/1h", "100 per minute"])
def test_a_rate_that_cannot_be_read_is_one_clear_error(value: str) -> None:
    with pytest.raises(LimitError, match=r"100/15min|at least 1"):
        build(rate_limit=value)


# -- failed authentication -----------------------------------------------------------------


def test_failed_auth_is_limited_per_address_before_any_key_is_checked(serve: Any) -> None:
    server = build(api_key="K")
    limit = parse_rate(server.config.failed_auth_limit).amount  # the default
    spy = spy_after_failed_auth_limit(server)
    asked: list[str] = []
    layers = [type(layer).__name__ for layer in server.guards]
    server.guards[:] = [Recorded(layer, asked) for layer in server.guards]
    url = serve(server)
    with client("127.0.0.2") as guesser, client("127.0.0.3") as other, client("127.0.0.4") as bare:
        for n in range(limit):
            key = {"X-API-Key": f"wrong-{n}"} if n % 2 else {"Authorization": f"Bearer wrong-{n}"}
            assert guesser.post(url, json=rpc("tools/list"), headers={**JSON, **key}).status_code == 401
        seen = len(spy.seen)
        asked.clear()
        blocked = call(guesser, url, "K")  # the right key, from the blocked address
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert "from your address" in blocked.json()["error"]["message"]
        assert len(spy.seen) == seen  # refused before authentication ever saw it:
        assert asked == layers[: layers.index("FailedAuthLimitLayer") + 1]  # no layer after it was asked
        assert any(
            "Auth" in name for name in layers[layers.index("Spy") + 1 :]
        )  # and authentication is after
        asked.clear()
        assert call(other, url, "K").status_code == 200
        assert asked == layers  # a request let in meets every layer
        assert call(other, url, "wrong").status_code == 401
        for _ in range(limit + 5):  # no credential offered: nothing guessed, nothing counted
            assert bare.post(url, json=rpc("tools/list"), headers=JSON).status_code == 401
        assert call(bare, url, "K").status_code == 200
        assert spy.seen.count("127.0.0.2") == limit and "127.0.0.3" in spy.seen
        assert guesser.get(url.removesuffix("/mcp") + "/health").status_code == 200  # never limited


def test_failed_auth_is_limited_overall_and_its_window_resets(serve: Any) -> None:
    server = build(api_key="K")
    server.config.failed_auth_limit = "3/1min"
    server.config.failed_auth_limit_total = "4/1min"
    url = serve(server)
    with client("127.0.0.2") as a, client("127.0.0.3") as b, client("127.0.0.4") as fresh:
        for http in (a, a, b, b):
            assert call(http, url, "wrong").status_code == 401
        for http in (a, b):  # each under its own limit, but the server as a whole is past its own
            refused = call(http, url, "K")
            assert refused.status_code == 429 and "on this server" in refused.json()["error"]["message"]
        assert call(fresh, url, "K").status_code == 200  # an address that never failed gets in
        assert call(fresh, url, "wrong").status_code == 401
        now_refused = call(fresh, url, "K")  # it has failed now, while the server is past its limit
        assert now_refused.status_code == 429
        retry = int(now_refused.headers["retry-after"])
        with time_machine.travel(time.time() + retry, tick=True):
            assert call(fresh, url, "K").status_code == 200
            assert call(a, url, "K").status_code == 200


def test_a_refusal_a_door_reports_counts_as_failed_authentication(serve: Any) -> None:
    async def login(scope: Any, receive: Any, send: Any) -> None:  # judges a form's key itself
        report_refusal(scope, Refusal(401, "Unauthorized: wrong owner key", "unauthorized"))
        await send({"type": "http.response.start", "status": 403, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})

    server = build()  # no key: the door's form is the only credential, sent in no header
    server.config.failed_auth_limit = "3/1min"
    server.doors["/login"] = login
    spy = spy_after_failed_auth_limit(server)
    url = serve(server)
    base = url.removesuffix("/mcp")
    with client("127.0.0.5") as http, client("127.0.0.6") as other:
        for _ in range(3):
            assert http.post(base + "/login", data={"key": "guess"}).status_code == 403
        refused = http.post(base + "/login", data={"key": "guess"})
        assert refused.status_code == 429 and refused.json()["type"] == "too_many_failures"
        assert call(http, url).status_code == 429
        assert call(other, url).status_code == 200
    assert spy.seen.count("127.0.0.5") == 3


# -- the client address --------------------------------------------------------------------


def test_trust_proxy_picks_the_right_most_untrusted_forwarded_address(serve: Any) -> None:
    direct = build(rate_limit="2/1h")
    proxied = build(rate_limit="2/1h", trust_proxy=True)
    proxied.config.trusted_proxies = ["10.0.0.0/8"]
    spies = [spy_after_failed_auth_limit(direct), spy_after_failed_auth_limit(proxied)]
    off, on = serve(direct), serve(proxied)
    with client() as http:
        codes = [call(http, off, **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
        assert codes == [200, 200, 429]  # without trust_proxy the header is nobody's word
        assert set(spies[0].seen) == {"127.0.0.1"}
        for forwarded in ("203.0.113.9", "198.51.100.7, 203.0.113.9"):
            assert call(http, on, **{"X-Forwarded-For": forwarded}).status_code == 200
        assert call(http, on, **{"X-Forwarded-For": "203.0.113.1, 203.0.113.9"}).status_code == 429
        assert call(http, on, **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}).status_code == 200
        assert call(http, on, **{"X-Forwarded-For": "198.51.100.8, 10.1.2.3"}).status_code == 200
        assert call(http, on).status_code == 200  # no header: the proxy itself
    assert spies[1].seen == [*["203.0.113.9"] * 3, "198.51.100.7", "198.51.100.8", "127.0.0.1"]


def test_once_published_the_tunnels_header_is_the_address(serve: Any) -> None:
    server = build(rate_limit="1/1h")
    server.public_url = "https://notebook.example"
    spy = spy_after_failed_auth_limit(server)
    url = serve(server)
    with client() as http:
        assert call(http, url, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 200
        assert call(http, url, **{"X-Forwarded-For": "203.0.113.6"}).status_code == 200
        assert call(http, url, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 429
        server.config.forwarded_header = "cf-connecting-ip"  # the publishing code names its tunnel's
        assert (
            call(http, url, **{"CF-Connecting-IP": "2001:db8::1", "X-Forwarded-For": "9.9.9.9"}).status_code
            == 200
        )
        assert call(http, url, **{"CF-Connecting-IP": "2001:db8::2"}).status_code == 429  # the same /64
        assert call(http, url).status_code == 200  # no header: a process on this machine
    assert spy.seen == [
        "203.0.113.5",
        "203.0.113.6",
        "203.0.113.5",
        "2001:db8::1",
        "2001:db8::2",
        "127.0.0.1",
    ]


def test_client_address_rules_on_scopes_no_socket_can_give() -> None:
    def scope(peer: str, *headers: tuple[str, str]) -> dict[str, Any]:
        return {"client": (peer, 5000), "headers": [(k.encode(), v.encode()) for k, v in headers]}

    published = ServerConfig(public_url="https://notebook.example")
    forwarded = ("x-forwarded-for", "203.0.113.5")
    assert client_address(scope("192.0.2.10", forwarded), published) == "192.0.2.10"  # not the tunnel
    assert client_address(scope("::ffff:127.0.0.1", forwarded), published) == "203.0.113.5"
    proxy = ServerConfig(trust_proxy=True)
    assert client_address(scope("192.0.2.10", ("x-forwarded-for", "1.1.1.1, bogus")), proxy) == "192.0.2.10"
    assert (
        client_address(scope("192.0.2.10", ("x-forwarded-for", "[2001:db8::5]:443")), proxy) == "2001:db8::5"
    )
    assert (
        client_address(
            scope("192.0.2.10", ("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2")), proxy
        )
        == "2.2.2.2"
    )
    rfc = ServerConfig(trust_proxy=True, forwarded_header="forwarded")
    assert (
        client_address(
            scope("192.0.2.10", ("forwarded", 'for=1.1.1.1, for="[2001:db8::7]:80";proto=https')), rfc
        )
        == "2001:db8::7"
    )
    assert client_address({"headers": []}, ServerConfig()) == "unknown"
    assert address_key("2001:db8:0:1:aaaa::1") == address_key("2001:db8:0:1:bbbb::2") == "2001:db8:0:1::/64"
    assert address_key("203.0.113.5") == "203.0.113.5"


# -- sessions, streams, calls ----------------------------------------------------------------


def test_the_session_cap_holds_under_20000_sessions_evicting_the_longest_idle() -> None:
    sessions = Sessions(max_sessions=1000)
    kept = sessions.create()
    streaming = sessions.create()
    streaming.stream_open = True
    opened = []
    for n in range(20_000):
        opened.append(sessions.create())
        assert len(sessions) <= 1000
        if n % 500 == 0:
            assert sessions.get(kept.id) is kept  # used now and then: never the longest idle
    assert len(sessions) == 1000 and sessions.evicted == 20_002 - 1000
    assert sessions.get(kept.id) is kept and sessions.get(streaming.id) is streaming
    assert all(sessions.get(s.id) is s for s in opened[-998:])
    gone = opened[:-998]
    assert all(s.ended and sessions.get(s.id) is None for s in gone)


def test_a_session_whose_stream_just_ended_counts_as_recently_used() -> None:
    sessions = Sessions(max_sessions=3)
    first, second, third = (sessions.create() for _ in range(3))
    first.touch()  # what the endpoint does when a session's stream ends
    sessions.create()
    assert second.ended and not first.ended and not third.ended
    assert len(sessions) == 3 and sessions.get(second.id or "") is None


def test_an_evicted_session_is_404_and_the_newest_keep_working(serve: Any) -> None:
    server = build(max_sessions=5)
    url = serve(server)
    with client() as http:
        opened = [RawSession(http, url, VERSION) for _ in range(5)]
        for raw in opened:
            raw.initialize()
        opened[0].request("tools/list")  # the first is now the most recently used
        newest = RawSession(http, url, VERSION)
        newest.initialize()
        gone = http.post(url, json=rpc("tools/list", msg_id=9), headers=opened[1].headers())
        assert gone.status_code == 404
        oracle.validate_answer("tools/list", gone.json(), VERSION, expect="error")
        for raw in (opened[0], *opened[2:], newest):
            raw.request("tools/list")
        health = http.get(url.removesuffix("/mcp") + "/health").json()
        assert health["sessions"] == 5 == len(server.engine.sessions)


def test_evicting_a_streaming_session_closes_its_stream(serve: Any) -> None:
    url = serve(build(max_sessions=1))
    with client() as http, client() as other:
        first = RawSession(http, url, VERSION)
        first.initialize()
        headers = {**first.headers("text/event-stream")}
        with http.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0)) as stream:
            assert stream.status_code == 200
            RawSession(other, url, VERSION).initialize()  # every session streams: the oldest goes
            assert [e.get("data") for e in events(stream)] == [None]  # the priming event, then the end
        assert http.post(url, json=rpc("ping", msg_id=3), headers=first.headers()).status_code == 404


def _wait_until(condition: Any, what: str) -> None:
    for _ in range(200):  # bounded: 10 s at most
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def gate() -> Iterator[tuple[threading.Event, threading.Semaphore]]:
    release, entered = threading.Event(), threading.Semaphore(0)
    yield release, entered
    release.set()


def _holding(gate: tuple[threading.Event, threading.Semaphore], **kwargs: Any) -> MCPServer:
    release, entered = gate
    server = build(**kwargs)

    @server.tool
    def hold(ctx: Context) -> str:
        """Wait until the test lets go (it takes a Context, so it may stream)."""
        entered.release()
        release.wait(30)
        return "done"

    return server


def _two_held_by_ka(
    serve: Any, gate: Any
) -> tuple[MCPServer, str, threading.Event, list[threading.Thread], list[int]]:
    """A server capping calls at 2 per caller, with two calls by key "a" held open on /mcp."""
    server = _holding(gate, api_keys={"a": "KA", "b": "KB"})
    server.config.max_calls_per_principal = 2
    url = serve(server)
    release, entered = gate
    body = rpc("tools/call", {"name": "hold", "arguments": {}})
    answers: list[int] = []

    def held() -> None:
        with client() as http:
            answers.append(http.post(url, json=body, headers={**JSON, "X-API-Key": "KA"}).status_code)

    threads = [threading.Thread(target=held) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert entered.acquire(timeout=10)
    return server, url, release, threads, answers


def test_concurrent_calls_per_principal_are_capped(serve: Any, gate: Any) -> None:
    _, url, release, threads, answers = _two_held_by_ka(serve, gate)
    with client() as http:
        third = http.post(
            url,
            json=rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, msg_id=5),
            headers={**JSON, "X-API-Key": "KA"},
        )
        assert third.status_code == 429 and third.headers["retry-after"] == "1"
        error = oracle.validate_answer("tools/call", third.json(), VERSION, request_id=5, expect="error")
        assert "at most 2" in error["message"]
        assert call(http, url, "KB").status_code == 200  # another principal is not held up
        assert http.post(url, json=rpc("tools/list"), headers={**JSON, "X-API-Key": "KA"}).status_code == 200
        release.set()
        for thread in threads:
            thread.join(10)
        assert answers == [200, 200]
        assert call(http, url, "KA").status_code == 200


def test_the_calls_cap_spans_mcp_and_the_rest_facade(serve: Any, gate: Any) -> None:
    server, url, release, threads, answers = _two_held_by_ka(serve, gate)
    base = url.removesuffix("/mcp")
    with client() as http:
        full = http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers={**JSON, "X-API-Key": "KA"})
        assert full.status_code == 429 and full.headers["retry-after"] == "1"
        assert full.json()["type"] == "too_many_calls" and "at most 2" in full.json()["error"]
        other = http.post(f"{base}/tools/add", json={"a": 1, "b": 1}, headers={**JSON, "X-API-Key": "KB"})
        assert other.status_code == 200 and other.json() == {"result": 2}
        release.set()
        for thread in threads:
            thread.join(10)
        assert answers == [200, 200]
        again = http.post(f"{base}/tools/add", json={"a": 2, "b": 2}, headers={**JSON, "X-API-Key": "KA"})
        assert again.status_code == 200 and again.json() == {"result": 4}
    assert server.monitor.running == {}


@pytest.mark.parametrize("published", [False, True])
def test_the_calls_cap_is_off_while_local_only_and_on_once_published(
    serve: Any, gate: Any, published: bool
) -> None:
    server = _holding(gate)  # max_calls_per_principal left at None: "auto"
    if published:
        server.public_url = "https://notebook.example"
    url = serve(server)
    release, entered = gate
    held = DEFAULT_MAX_CALLS if published else DEFAULT_MAX_CALLS + 1
    body = rpc("tools/call", {"name": "hold", "arguments": {}})
    answers: list[int] = []

    def hold() -> None:
        with client() as http:
            answers.append(http.post(url, json=body, headers=JSON).status_code)

    threads = [threading.Thread(target=hold) for _ in range(held)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert entered.acquire(timeout=10)  # all of them are running at once
    with client() as http:
        more = call(http, url)
        assert more.status_code == (429 if published else 200)
    release.set()
    for thread in threads:
        thread.join(10)
    assert answers == [200] * held


def test_open_streams_per_session_are_capped(serve: Any, gate: Any) -> None:
    server = _holding(gate)
    server.config.max_streams_per_session = 1
    url = serve(server)
    release, entered = gate
    with client() as http, client() as second:
        raw = RawSession(http, url, VERSION)
        raw.initialize()
        streamed = rpc("tools/call", {"name": "hold", "arguments": {}})
        done: list[int] = []
        worker = threading.Thread(
            target=lambda: done.append(http.post(url, json=streamed, headers=raw.headers()).status_code)
        )
        worker.start()
        assert entered.acquire(timeout=10)
        refused = second.get(url, headers=raw.headers("text/event-stream"))
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert "at most 1" in oracle.validate_answer(None, refused.json(), VERSION, expect="error")["message"]
        again = second.post(
            url, json=rpc("tools/call", {"name": "hold", "arguments": {}}, msg_id=8), headers=raw.headers()
        )
        assert again.status_code == 429
        oracle.validate_answer("tools/call", again.json(), VERSION, request_id=8, expect="error")
        release.set()
        worker.join(10)
        assert done == [200]
        session = next(s for s in server.engine.sessions if s.id == raw.session_id)
        _wait_until(lambda: session.transport.get("open_streams") == 0, "the stream to be counted closed")
        with second.stream("GET", url, headers=raw.headers("text/event-stream")) as stream:
            assert stream.status_code == 200


def test_cli_rate_limit_and_trust_proxy_flags(tmp_path: Any) -> None:
    target = tmp_path / "app.py"
    target.write_text(
        "from nbmcp import MCPServer\nserver = MCPServer('cli')\n\n@server.tool\n"
        "def add(a: int, b: int) -> int:\n    '''Add.'''\n    return a + b\n",
        encoding="utf-8",
    )
    with cli_server(target, tmp_path, "--rate-limit", "2/1h", "--trust-proxy") as served, client() as http:
        codes = [call(http, served.url, **{"X-Forwarded-For": "203.0.113.1"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert call(http, served.url, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 200
