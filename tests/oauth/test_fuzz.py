"""Nothing a client sends to the OAuth endpoints becomes a 5xx: random methods, queries, forms and JSON.

A bounded Hypothesis run against a live server; afterwards the server still issues a working grant.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbmcp import MCPServer
from tests.oauth.consentkit import (
    OAUTH_ENDPOINTS,
    OAUTH_FIELDS,
    REDIRECT,
    base_of,
    call_tool,
    client,
    full_grant,
    oauth_server,
)

pytestmark = pytest.mark.timeout(300)

PATHS = list(OAUTH_ENDPOINTS)
NAMES = list(OAUTH_FIELDS)
text = st.text(max_size=80)
values = st.one_of(
    text,
    st.sampled_from(
        ["code", "S256", "plain", "authorization_code", "refresh_token", REDIRECT, "https://x.example/a"]
    ),
)
pairs = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=8)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
registrations = st.fixed_dictionaries(
    {},
    optional={
        "redirect_uris": st.one_of(st.lists(st.one_of(values, json_values), max_size=3), json_values),
        "token_endpoint_auth_method": st.one_of(
            st.sampled_from(["none", "client_secret_post", "x"]), json_values
        ),
        "grant_types": json_values,
        "response_types": json_values,
        "scope": json_values,
        "client_name": json_values,
        "client_uri": json_values,
    },
)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[MCPServer, str]]:
    server = oauth_server("fuzzed")
    server.oauth.configure(store="memory")
    server.start()
    yield server, base_of(str(server.url))
    server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as c:
        yield c


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE"]),
    query=pairs,
    body=st.one_of(
        pairs.map(lambda p: urlencode(p).encode()),
        registrations.map(lambda r: httpx.Request("POST", "http://x", json=r).content),
        st.binary(max_size=200),
    ),
    basic=st.one_of(st.none(), text),
)
def test_no_5xx_from_any_request(
    live: tuple[MCPServer, str],
    http: httpx.Client,
    path: str,
    method: str,
    query: list[tuple[str, str]],
    body: bytes,
    basic: str | None,
) -> None:
    _, base = live
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if basic is not None:
        headers["authorization"] = "Basic " + (
            base64.b64encode(basic.encode("utf-8", "replace")).decode() or "="
        )
    url = f"{base}{path}?{urlencode(query)}" if query else f"{base}{path}"
    answer = http.request(method, url, content=body if method != "GET" else None, headers=headers)
    assert answer.status_code < 500, (method, url, body[:100], answer.text[:300])


def test_still_correct_after_the_fuzz(live: tuple[MCPServer, str]) -> None:
    """An honest client from another address gets a full grant and calls a tool.

    (The fuzzing address itself may be blocked by now: its many wrong credentials are what
    the failed-authentication limit is for.)
    """
    server, base = live
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(timeout=30, trust_env=False, follow_redirects=False, transport=transport) as honest:
        grant = full_grant(honest, server, base)
        assert call_tool(honest, base, grant.tokens["access_token"]).status_code == 200
