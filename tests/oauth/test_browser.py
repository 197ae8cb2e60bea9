"""The consent page in a real browser (Debian's chromium through Playwright): renders, submits, redirects.

Skipped where chromium or Playwright is missing (``apt-get install chromium``, ``pip install
playwright``; Playwright's own browser download is never used). With
``NBMCP_UPDATE_DOCS=1`` the phone-sized screenshot is also written to ``docs/consent.png``
for the README.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from nbmcp import MCPServer
from tests.browserkit import CHROMIUM, require_chromium
from tests.httpkit import QuietHandler, serve_handler
from tests.oauth.consentkit import authorize_url, base_of, client, oauth_server, pkce, register

pytestmark = pytest.mark.timeout(120)

require_chromium()
from playwright import sync_api  # noqa: E402 (after the one-line check for chromium)

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def callback() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A stand-in for the client's redirect URI: records what the browser brought back."""
    got: list[dict[str, list[str]]] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/callback":  # not the browser's /favicon.ico
                got.append(parse_qs(urlsplit(self.path).query))
            body = b"<!doctype html><title>Connected</title><h1>Connected</h1>"
            self.reply(200, body, {"content-type": "text/html"})

    with serve_handler(Handler) as base:
        yield f"{base}/callback", got


@pytest.fixture
def server() -> Iterator[MCPServer]:
    server = oauth_server("Weather notebook")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_consent_in_chromium_renders_submits_and_redirects(
    server: MCPServer, browser: Any, callback: tuple[str, list[dict[str, list[str]]]], tmp_path: Path
) -> None:
    redirect, got = callback
    base = base_of(str(server.url))
    with client() as http:
        client_id = register(http, base, redirect, client_name="Claude", scope="read")["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge, redirect_uri=redirect, scope="read", state="from-browser")

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    _screenshot(page, base, tmp_path)
    page.goto(url)
    assert page.title() == "Allow access to Weather notebook?"
    assert page.locator(".host").inner_text() == urlsplit(redirect).netloc
    assert page.locator("input[type=password][name=key]").count() == 1

    page.fill("input[name=key]", "not the key")
    page.click("button[value=approve]")
    assert "not the owner key" in page.locator("[role=alert]").inner_text()
    assert got == []

    page.fill("input[name=key]", str(server.access_key))
    with page.expect_navigation(url=lambda u: u.startswith(redirect)):
        page.click("button[value=approve]")
    assert page.locator("h1").inner_text() == "Connected"
    assert len(got) == 1
    assert got[0]["state"] == ["from-browser"] and got[0]["iss"] == [base] and got[0]["code"][0]


def _screenshot(page: Any, base: str, tmp_path: Path) -> None:
    """The page as a phone shows it, for a hosted client (Claude's callback)."""
    hosted = "https://claude.ai/api/mcp/auth_callback"
    with client() as http:
        client_id = register(http, base, hosted, client_name="Claude")["client_id"]
    _, challenge = pkce()
    page.goto(authorize_url(base, client_id, challenge, redirect_uri=hosted, scope="tools:call"))
    assert page.locator(".host").inner_text() == "claude.ai"
    shot = tmp_path / "consent.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("NBMCP_UPDATE_DOCS"):
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "consent.png")


def test_the_consent_page_will_not_load_in_a_frame(server: MCPServer, browser: Any) -> None:
    base = base_of(str(server.url))
    with client() as http:
        client_id = register(http, base)["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge)
    page = browser.new_page()
    page.set_content(f'<iframe id="f" src="{url}" width="400" height="400"></iframe>')
    page.wait_for_load_state("load")
    frame = page.frame_locator("#f")
    assert frame.locator("input[name=key]").count() == 0
