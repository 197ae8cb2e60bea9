"""``server.publish()`` end to end through the agents' doubles: a real TLS edge, real OAuth, the SDK client.

The doubles' public names resolve to this machine and their certificates come from the test
CA, so the official ``mcp`` client reaches the server exactly as ChatGPT or Claude would:
over HTTPS, through the tunnel, with the Host being the public name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from nbmcp import MCPServer
from nbmcp.errors import ServerStateError, TunnelUnavailableError
from tests.oauth.test_sdk_flow import Person, Storage, oauth_provider
from tests.tunnel.kit import TunnelKit, kill, records, wait_for

pytestmark = [pytest.mark.timeout(120)]

PUBLIC = {
    "ngrok": re.compile(r"^https://ngrok\.nbmcp\.test:\d+/mcp$"),
    "cloudflared": re.compile(r"^https://cloudflared\.nbmcp\.test:\d+/mcp$"),
}
KEY = "owner-key-for-the-publish-tests-0123456789"


@pytest.fixture(autouse=True)
def memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")


def _server(**kwargs: Any) -> MCPServer:
    server = MCPServer("published", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


@pytest.fixture
def server() -> Iterator[MCPServer]:
    mcp = _server(api_key=KEY)
    mcp.start(port=0)
    yield mcp
    mcp.stop()


async def _call_add(
    url: str, kit: TunnelKit, *, headers: dict[str, str] | None = None, auth: Any = None
) -> int:
    async with (
        httpx2.AsyncClient(
            verify=kit.ssl_context(), headers=headers, auth=auth, timeout=15, trust_env=False
        ) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()
        assert [tool.name for tool in listed.tools] == ["add"]
        result = await session.call_tool("add", {"a": 20, "b": 22})
        assert not result.is_error, result
        return int((result.structured_content or {})["result"])


def _run(fn: Any) -> Any:
    out: list[Any] = []

    async def bounded() -> None:
        with anyio.fail_after(60):
            out.append(await fn())

    anyio.run(bounded)
    return out[0]


def _sdk_oauth(url: str, kit: TunnelKit, key: str) -> tuple[int, Person]:
    """The SDK's OAuth from a bare 401; the owner approves over the public HTTPS URL."""
    person = Person(key, verify=kit.ssl_context())
    auth = oauth_provider(url, Storage(), person, client_name="Published judge")
    return _run(lambda: _call_add(url, kit, auth=auth)), person


@pytest.mark.parametrize("provider", ["ngrok", "cloudflared"])
def test_publish_protects_and_serves_through_the_tunnel(
    provider: str, server: MCPServer, provider_env: TunnelKit
) -> None:
    local = server.url
    url = server.publish(provider)
    assert PUBLIC[provider].match(url), url
    assert server.public_url == url.removesuffix("/mcp") and server.tunnel is not None
    assert server.tunnel.provider == provider and server.tunnel_state == "up"
    assert server.token_verifier is server.oauth is not None, "publishing turns the built-in OAuth on"
    assert server.access_key == KEY, "the key set before stays the owner key"
    assert server.publish() == url, "publishing again gives the same URL"
    with pytest.raises(ServerStateError, match="unpublish"):
        server.publish("cloudflared" if provider == "ngrok" else "ngrok")

    # The key works through the tunnel; the official client lists and calls.
    assert _run(lambda: _call_add(url, provider_env, headers={"X-API-Key": KEY})) == 42
    # OAuth from a bare 401: discovery, registration, consent with the owner key, token, call.
    total, person = _sdk_oauth(url, provider_env, KEY)
    assert total == 42 and len(person.visits) == 1
    assert httpx.URL(person.visits[0]).params["resource"] == url, "the token's audience is the public URL"

    with httpx.Client(verify=provider_env.ssl_context(), trust_env=False, timeout=15) as http:
        bare = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert bare.status_code == 401
        metadata = re.search(r'resource_metadata="([^"]+)"', bare.headers["www-authenticate"])
        assert metadata is not None and metadata.group(1).startswith(server.public_url + "/.well-known/")
        document = http.get(metadata.group(1)).json()
        assert document["resource"] == url and document["authorization_servers"] == [server.public_url]
        schema = http.get(server.public_url + "/openapi.json").json()
        assert schema["servers"][0]["url"] == server.public_url
        evil = http.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Host": "evil.example"}
        )
        assert evil.status_code == 421, "the Host guard still refuses other hosts"
        get = http.get(url, headers={"Accept": "text/event-stream", "X-API-Key": KEY})
        if provider == "cloudflared":
            assert get.status_code == 405, "quick tunnels hold GET streams: the server answers 405"
        else:
            assert get.status_code in (400, 404), "GET needs a session; not turned off for ngrok"

    server.unpublish()
    assert server.public_url is None and server.tunnel is None and server.tunnel_state == "none"
    assert server.token_verifier is None and server.config.get_stream
    host = httpx.URL(url).host
    assert host not in server.config.allowed_hosts
    assert server.url == local, "the local server kept serving"
    plain = httpx.post(local, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"X-API-Key": KEY})
    assert plain.status_code == 200 and plain.json()["result"] == {}


@pytest.fixture
def keyless(cloudflared_env: TunnelKit, monkeypatch: pytest.MonkeyPatch) -> Iterator[MCPServer]:
    """A server with no key set, not started, cloudflared's double set up; stopped at the end."""
    monkeypatch.delenv("NBMCP_API_KEY", raising=False)
    server = _server()
    yield server
    server.stop()


def test_a_generated_owner_key_when_none_is_set(keyless: MCPServer, cloudflared_env: TunnelKit) -> None:
    server = keyless
    url = server.publish()  # starts the server too; cloudflared: no ngrok token here
    assert server.tunnel is not None and server.tunnel.provider == "cloudflared"
    key = server.access_key
    assert key and len(key) >= 24
    assert _run(lambda: _call_add(url, cloudflared_env, headers={"Authorization": f"Bearer {key}"})) == 42
    server.unpublish()
    assert server.access_key is None, "the generated key goes with the OAuth publishing turned on"
    again = server.publish()
    assert server.access_key == key, "publishing again brings the same owner key back"
    assert _run(lambda: _call_add(again, cloudflared_env, headers={"X-API-Key": key})) == 42
    server.stop()
    assert server.tunnel is None, "stop() closes the tunnel"


def test_no_auth_publishes_open_with_a_loud_warning(
    keyless: MCPServer, cloudflared_env: TunnelKit, caplog: pytest.LogCaptureFixture
) -> None:
    server = keyless
    with caplog.at_level("WARNING", logger="nbmcp"):
        url = server.publish(no_auth=True)
    warnings = [r.getMessage() for r in caplog.records if "no authentication" in r.getMessage()]
    assert len(warnings) == 1 and "anyone who has the URL" in warnings[0]
    assert server.token_verifier is None and server.auth_mode == "none"
    assert _run(lambda: _call_add(url, cloudflared_env)) == 42


def test_missing_token_or_binary_is_one_line_and_the_server_keeps_serving(server: MCPServer) -> None:
    for provider, words in (("ngrok", "NGROK_AUTHTOKEN"), ("cloudflared", "cloudflared")):
        with pytest.raises(TunnelUnavailableError) as caught:
            server.publish(provider)
        message = str(caught.value)
        assert "\n" not in message and words in message
        assert server.tunnel is None and server.public_url is None and server.token_verifier is None
    with pytest.raises(TunnelUnavailableError) as caught:
        server.publish()
    assert len(str(caught.value).splitlines()) == 2, "no provider at all: both ways, in two lines"
    ping = httpx.post(
        server.url or "", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"X-API-Key": KEY}
    )
    assert ping.status_code == 200


def test_a_dead_tunnel_is_reported_and_publish_opens_a_new_one(
    server: MCPServer, ngrok_env: TunnelKit, records_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = server.publish("ngrok")
    tunnel = server.tunnel
    assert tunnel is not None
    (record,) = records(records_dir, "ngrok")
    pid = int(str(record["pid"]))
    with caplog.at_level("WARNING", logger="nbmcp"):
        kill(pid)
        wait_for(lambda: server.tunnel_state == "down")
        wait_for(lambda: any("tunnel is down" in r.getMessage() for r in caplog.records))
    note = server.publish_note
    assert note is not None and "\n" not in note and "down" in note and "local server still serves" in note
    ping = httpx.post(
        server.url or "", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"X-API-Key": KEY}
    )
    assert ping.status_code == 200, "the local server keeps serving"
    second = server.publish()
    assert server.tunnel_state == "up" and server.publish_note is None
    assert second != first or server.tunnel is not tunnel
    assert _run(lambda: _call_add(second, ngrok_env, headers={"X-API-Key": KEY})) == 42
