"""Helpers for the built-in authorization server's tests: a person at the consent page, PKCE, clients.

:func:`fill_consent` does what a person does in a browser: it loads the consent page, reads
the form the way a browser would (the hidden fields it carries, the one password field
``key``), types the key and presses Approve, then reads where the server sends the browser.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from nbmcp import MCPServer

TIMEOUT = 15.0
REDIRECT = "http://127.0.0.1:47123/callback"


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    passwords: list[str] = field(default_factory=list)
    buttons: dict[str, str] = field(default_factory=dict)


class FormReader(HTMLParser):
    """Collects the page's forms: hidden inputs, password fields, submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif tag == "input" and self.forms:
            if a.get("type") == "password":
                self.forms[-1].passwords.append(a.get("name", ""))
            elif a.get("type") == "hidden":
                self.forms[-1].fields[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons[a["name"]] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_forms(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def approve_form(html: str) -> Form:
    """The form with the password field (there is exactly one)."""
    forms = [f for f in read_forms(html).forms if f.passwords]
    assert len(forms) == 1 and forms[0].passwords == ["key"], forms
    return forms[0]


def pkce() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


OAUTH_ENDPOINTS = (
    "/authorize",
    "/token",
    "/register",
    "/revoke",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
)
"""The built-in authorization server's paths: its four endpoints first, then its metadata."""
OAUTH_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "token_type_hint",
    "request",
    "csrf_token",
    "key",
    "action",
    "client_secret",
)
"""Every form and query field those endpoints and the consent page read (for fuzzing)."""


def client(verify: ssl.SSLContext | bool = True) -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False, verify=verify)


@dataclass
class Consent:
    """What the browser was sent to after the consent form was posted."""

    status: int
    location: str | None
    page: str

    @property
    def params(self) -> dict[str, str]:
        assert self.location is not None, (self.status, self.page[:400])
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def fill_consent(http: httpx.Client, authorize_url: str, key: str, *, button: str = "approve") -> Consent:
    """Load the consent page, type ``key`` in its one password field, press Approve."""
    page = http.get(authorize_url)
    assert page.status_code == 200, (page.status_code, page.text[:400])
    form = approve_form(page.text)
    data = {**form.fields, "key": key, "action": form.buttons.get("action", button)}
    posted = http.post(urljoin(authorize_url, form.action), data=data)
    return Consent(posted.status_code, posted.headers.get("location"), posted.text)


def base_of(mcp_url: str) -> str:
    return mcp_url.rsplit("/mcp", 1)[0]


def register(http: httpx.Client, base: str, redirect: str = REDIRECT, **extra: Any) -> dict[str, Any]:
    answer = http.post(f"{base}/register", json={"redirect_uris": [redirect], "client_name": "Test", **extra})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def authorize_url(base: str, client_id: str, challenge: str | None, **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "st-1"}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return str(httpx.URL(f"{base}/authorize", params=params))


@dataclass
class Grant:
    client_id: str
    verifier: str
    code: str
    tokens: dict[str, Any]


def full_grant(http: httpx.Client, server: MCPServer | str, base: str, **extra: str) -> Grant:
    """Register, consent with the owner key (``server``'s, or given), trade the code: a whole grant."""
    client_id = register(http, base)["client_id"]
    verifier, challenge = pkce()
    key = server if isinstance(server, str) else str(server.access_key)
    consent = fill_consent(http, authorize_url(base, client_id, challenge, **extra), key)
    assert consent.status == 303, consent.page[:400]
    code = consent.params["code"]
    tokens = http.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    return Grant(client_id, verifier, code, tokens.json())


def call_tool(http: httpx.Client, base: str, token: str | None) -> httpx.Response:
    """``POST /tools/add`` (the REST facade) with ``Authorization: Bearer token``: 200 when it is good."""
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return http.post(f"{base}/tools/add", json={"a": 2, "b": 3}, headers=headers)


def oauth_server(name: str = "oauth-judge", **kwargs: Any) -> MCPServer:
    """A server with the built-in authorization server and one tool, ``add``."""
    server = MCPServer(name, auth="oauth", **kwargs)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server
