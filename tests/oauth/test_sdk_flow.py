"""The built-in authorization server end to end, driven by the official MCP Python SDK's OAuth client.

The SDK starts from a bare 401, discovers the protected-resource and authorization-server
metadata, registers itself (RFC 7591), sends the browser to ``/authorize`` with PKCE S256; a
person (:func:`~tests.oauth.consentkit.fill_consent`) types the owner key on the consent
page; the SDK trades the code, calls a tool, and later refreshes. Then the server restarts
on the same port with the same config directory, and the tokens the SDK holds still work.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from nbmcp import MCPServer
from tests.oauth.consentkit import REDIRECT, base_of, call_tool, client, fill_consent, oauth_server

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]


class Storage:
    """The SDK's TokenStorage, in memory, shared across sessions (as a desktop client keeps it)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Person:
    """The SDK's redirect and callback handlers: a person approving on the consent page.

    ``verify`` is how the person's browser checks the server's certificate (httpx's ``verify``:
    a context trusting a test CA for a server behind TLS).
    """

    def __init__(self, key: str | None, verify: ssl.SSLContext | bool = True) -> None:
        self.key = key
        self.verify = verify
        self.visits: list[str] = []
        self.result: AuthorizationCodeResult | None = None

    async def redirect(self, url: str) -> None:
        self.visits.append(url)
        assert self.key is not None, "the SDK asked for consent again: its tokens were not accepted"
        key = self.key

        def approve() -> Any:
            with client(verify=self.verify) as http:
                return fill_consent(http, url, key)

        consent = await anyio.to_thread.run_sync(approve)
        assert consent.status == 303, consent.page[:400]
        params = consent.params
        assert consent.location is not None and consent.location.startswith(REDIRECT)
        self.result = AuthorizationCodeResult(
            code=params["code"], state=params.get("state"), iss=params.get("iss")
        )

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result


def oauth_provider(
    url: str, storage: Storage, person: Person, client_name: str = "SDK judge"
) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        client_name=client_name,
        redirect_uris=[REDIRECT],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(url, metadata, storage, person.redirect, person.callback)


async def call_add(url: str, auth: OAuthClientProvider) -> int:
    async with (
        httpx2.AsyncClient(auth=auth, timeout=15.0, trust_env=False) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("add", {"a": 20, "b": 22})
        assert not result.is_error, result
        structured = result.structured_content or {}
        return int(structured.get("result", -1))


def run(fn: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(90):
            await fn()

    anyio.run(bounded)


def test_sdk_discovers_registers_consents_calls_refreshes_and_survives_a_restart() -> None:
    server = oauth_server("sdk-oauth")
    url = server.start()
    port = server.port
    key = str(server.access_key)
    storage = Storage()
    person = Person(key)
    try:
        with client() as http:  # a bare request: 401 naming the resource metadata
            bare = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert bare.status_code == 401
            assert 'resource_metadata="' in bare.headers["www-authenticate"]

        auth = oauth_provider(url, storage, person)
        run(lambda: _expect(call_add(url, auth), 42))
        assert len(person.visits) == 1  # one consent, with PKCE S256 and the resource
        visit = httpx.URL(person.visits[0])
        assert visit.params["code_challenge_method"] == "S256"
        assert visit.params["resource"] == url
        assert storage.client_info is not None and storage.client_info.client_id.startswith("nbmcp-")
        first = storage.tokens
        assert first is not None and first.refresh_token

        # The access token "expires" on the client's clock: the SDK refreshes, rotating the pair.
        auth.context.token_expiry_time = 1.0
        run(lambda: _expect(call_add(url, auth), 42))
        second = storage.tokens
        assert second is not None and second.refresh_token
        assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
        assert len(person.visits) == 1  # refreshed, not asked again
    finally:
        server.stop()

    # A restart at the same URL (same port, same config directory): the same tokens still work.
    again: MCPServer = oauth_server("sdk-oauth")
    again.start(port=port)
    try:
        with client() as http:
            assert call_tool(http, base_of(url), second.access_token).status_code == 200
        person.key = None  # any new consent would fail the test
        fresh = oauth_provider(url, storage, person)
        run(lambda: _expect(call_add(url, fresh), 42))
        fresh.context.token_expiry_time = 1.0  # and the refresh token issued before the restart
        run(lambda: _expect(call_add(url, fresh), 42))
        assert storage.tokens is not None and storage.tokens.refresh_token != second.refresh_token
        assert len(person.visits) == 1
    finally:
        again.stop()


async def _expect(call: Awaitable[int], want: int) -> None:
    assert await call == want
