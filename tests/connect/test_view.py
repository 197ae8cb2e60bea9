"""``%mcp connect``'s view: one section per client with its steps, its snippet and a copy button; no key."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest

from nbmcp.connect import CLIENTS, ConnectTarget, connect_info, describe
from nbmcp.notebook.connect_view import ConnectView, copy_script
from tests.connect.kit import AUTHS
from tests.connect.test_cli import KEY, tide


class Page(HTMLParser):
    """Collects the view's sections, buttons, ``<pre>`` texts, list items and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.buttons: list[dict[str, str | None]] = []
        self.pres: dict[str, str] = {}
        self.items: dict[str, list[str]] = {}
        self.tags: list[str] = []
        self._pre: str | None = None
        self._li: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(str(found["data-client"]))
            self.items[self.sections[-1]] = []
        elif tag == "button":
            self.buttons.append(found)
        elif tag == "pre":
            self._pre = str(found["id"])
            self.pres[self._pre] = ""
        elif tag == "li":
            self._li = self.items[self.sections[-1]]
            self._li.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre = None
        elif tag == "li":
            self._li = None

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self.pres[self._pre] += data
        if self._li is not None:
            self._li[-1] += data


def parse(markup: str) -> Page:
    page = Page()
    page.feed(markup)
    page.close()
    return page


@pytest.mark.parametrize("auth", AUTHS)
def test_one_section_and_one_copy_button_per_client(auth: str) -> None:
    info = connect_info(ConnectTarget("tide <tables> & co", "https://tide.example/nb/mcp?x=1&y=2", auth))
    view = ConnectView(info, heading="nbmcp server 'tide <tables>'")
    page = parse(view._repr_html_())
    assert page.sections == list(CLIENTS)
    assert [b["data-client"] for b in page.buttons] == list(CLIENTS)
    assert "script" not in page.tags and "iframe" not in page.tags
    for button, client in zip(page.buttons, CLIENTS, strict=True):
        target = next(pid for pid in page.pres if pid.endswith(f"-{client}"))
        assert button["onclick"] == copy_script(target)  # copies exactly that <pre>
        assert "navigator.clipboard.writeText" in str(button["onclick"])
        assert "execCommand('copy')" in str(button["onclick"])  # the fallback without a secure context
        assert page.pres[target] == info[client]["snippet"]  # the text unescaped is the snippet
        assert page.items[client] == info[client]["steps"]


def test_two_views_on_one_page_copy_their_own_snippets() -> None:
    info = connect_info(ConnectTarget("tide", "https://tide.example/mcp", "none"))
    first, second = parse(ConnectView(info)._repr_html_()), parse(ConnectView(info)._repr_html_())
    assert not set(first.pres) & set(second.pres)


def test_the_view_of_a_server_with_a_key_never_shows_it() -> None:
    server = tide(api_key=KEY)
    url = server.start(port=0)
    try:
        target = ConnectTarget(server.name, url, "key")
        view = ConnectView(connect_info(target), heading=f"{server.name} at {url}")
        markup, text = view._repr_html_(), repr(view)
    finally:
        server.stop()
    for shown in (markup, html.unescape(markup), text):
        assert KEY not in shown
    assert "${NBMCP_API_KEY}" in html.unescape(markup) and "${input:tide-tables-api-key}" in html.unescape(
        markup
    )


def test_plain_text_repr_is_the_cli_text() -> None:
    info = connect_info(ConnectTarget("tide", "http://127.0.0.1:8000/mcp", "oauth+key"))
    view = ConnectView(info, heading="tide")
    assert repr(view) == describe(info, "tide").rstrip("\n")
    assert view["cursor"] is info["cursor"]
