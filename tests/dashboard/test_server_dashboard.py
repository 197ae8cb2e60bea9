"""``server.dashboard()`` from plain Python (no kernel): the static snapshot, with the server's real numbers."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from nbmcp import MCPServer


class _Classes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "class" and value:
                self.classes.update(value.split())


def test_server_dashboard_outside_a_kernel_is_a_snapshot_of_the_live_numbers() -> None:
    server = MCPServer("plain")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    url = server.start(port=0)
    try:
        for i in range(3):
            body = {
                "jsonrpc": "2.0",
                "id": i,
                "method": "tools/call",
                "params": {"name": "add", "arguments": {"a": i, "b": 1}},
            }
            assert httpx.post(url, json=body, timeout=10).json()["result"]["structuredContent"] == {
                "result": i + 1
            }
        shown = server.dashboard()
        bundle = shown._repr_mimebundle_()
        html = bundle["text/html"]
        parsed = _Classes()
        parsed.feed(html)
        assert "nbmcp-dashboard" in parsed.classes
        assert server.stats()["total_calls"] == 3
        assert url in html and "add" in html
        text = bundle["text/plain"]
        assert text == repr(shown)
        assert "add" in text and url in text
    finally:
        server.stop()
