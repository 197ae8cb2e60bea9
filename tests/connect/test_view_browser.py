"""The copy buttons in a real browser (Debian's chromium through Playwright), both ways of copying.

The view is served from 127.0.0.1 (a secure context, so ``navigator.clipboard`` is there and
allowed), then again with ``navigator.clipboard`` taken away, as on a notebook served over
plain http from another host: the hidden-textarea fallback must copy the same text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nbmcp.connect import ConnectTarget, connect_info
from nbmcp.notebook.connect_view import ConnectView
from tests.browserkit import CHROMIUM, require_chromium
from tests.httpkit import QuietHandler, serve_handler

pytestmark = pytest.mark.timeout(120)

INFO = connect_info(ConnectTarget("tide tables", "https://tide.example/mcp", "oauth+key"))
NO_CLIPBOARD = "Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true});"
RECORD_COPY = (
    "document.addEventListener('copy', function () { window.__copied = String(document.getSelection()); });"
)


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    body = (
        f"<!doctype html><meta charset=utf-8><title>connect</title>{ConnectView(INFO)._repr_html_()}".encode()
    )

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.reply(200, body, {"content-type": "text/html; charset=utf-8"})

    with serve_handler(Handler) as base:
        yield f"{base}/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _click_and_see_copied(page: Any, client: str) -> None:
    """Click the client's Copy button; wait until its label said Copied (it turns back later)."""
    button = page.locator(f'button.nbmcp-copy[data-client="{client}"]')
    page.evaluate(
        "b => { window.__labels = []; new MutationObserver(() => window.__labels.push(b.textContent))"
        ".observe(b, {childList: true, characterData: true, subtree: true}); }",
        button.element_handle(),
    )
    button.click()
    page.wait_for_function("window.__labels.includes('Copied')", timeout=10_000)


@pytest.mark.parametrize("client", ["cursor", "curl", "chatgpt"])
def test_copy_writes_the_snippet_to_the_clipboard(browser: Any, page_url: str, client: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(page_url)
        assert page.evaluate("window.isSecureContext") is True
        _click_and_see_copied(page, client)
        assert page.evaluate("navigator.clipboard.readText()") == INFO[client]["snippet"]
    finally:
        context.close()


@pytest.mark.parametrize("client", ["vscode", "claude_code"])
def test_copy_falls_back_without_the_clipboard_api(browser: Any, page_url: str, client: str) -> None:
    context = browser.new_context()
    try:
        context.add_init_script(NO_CLIPBOARD + RECORD_COPY)
        page = context.new_page()
        page.goto(page_url)
        assert page.evaluate("navigator.clipboard") is None
        _click_and_see_copied(page, client)
        assert page.evaluate("window.__copied") == INFO[client]["snippet"]
        assert page.locator("textarea").count() == 0  # the helper is gone again
    finally:
        context.close()
