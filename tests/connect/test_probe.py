"""The probe's rules on their own: URL forms, where a key may go, and answers that are no MCP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nbmcp.connect.probe import ConnectError, _may_carry_key, probe, split_url
from nbmcp.errors import NbmcpError
from tests.httpkit import QuietHandler, serve_handler


@pytest.mark.parametrize(
    "given",
    [
        "https://h.example/nb",
        "https://h.example/nb/",
        "https://h.example/nb/mcp",
        "https://h.example/nb/mcp/",
    ],
)
def test_base_and_mcp_urls_are_one_server(given: str) -> None:
    assert split_url(given) == ("https://h.example/nb", "https://h.example/nb/mcp")


def test_split_refuses_what_is_no_http_url() -> None:
    for bad in ("h.example/mcp", "ftp://h.example/mcp", "http:///mcp", ""):
        with pytest.raises(ConnectError, match="is not an http"):
            split_url(bad)
    assert issubclass(ConnectError, NbmcpError)


def test_a_key_goes_over_https_or_to_this_machine_only() -> None:
    assert _may_carry_key("https://h.example/mcp")
    assert _may_carry_key("http://127.0.0.1:8000/mcp") and _may_carry_key("http://[::1]:8000/mcp")
    assert _may_carry_key("http://localhost:8000/mcp")
    assert not _may_carry_key("http://10.0.0.5:8000/mcp") and not _may_carry_key("http://h.example/mcp")


@pytest.fixture
def stub() -> Iterator[tuple[str, dict[str, Any]]]:
    """An HTTP server answering /health and /mcp with whatever the test sets in ``answers``."""
    answers: dict[str, Any] = {"health": (200, b'{"status":"ok","name":"stub"}', {}), "mcp": (200, b"{}", {})}
    seen: list[dict[str, str]] = []
    answers["seen"] = seen

    class Handler(QuietHandler):
        def _answer(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            self.reply(*answers["health" if self.path.endswith("/health") else "mcp"])

        do_GET = _answer
        do_POST = _answer

    with serve_handler(Handler) as base:
        yield base, answers


@pytest.mark.parametrize(
    ("status", "headers", "says"),
    [
        (
            307,
            {"Location": "https://elsewhere.example/mcp"},
            "redirects (307) to https://elsewhere.example/mcp",
        ),
        (421, {}, "refused its own host name (421)"),
        (502, {}, "answered 502"),
        (404, {}, "no MCP endpoint at"),
    ],
)
def test_answers_no_mcp_server_would_give_stop_the_probe(
    stub: tuple[str, dict[str, Any]], status: int, headers: dict[str, str], says: str
) -> None:
    base, answers = stub
    answers["mcp"] = (status, b"", headers)
    with pytest.raises(ConnectError, match=says.replace("(", r"\(").replace(")", r"\)")):
        probe(base, key="stub-key-1234", timeout=5)
    assert all("authorization" not in seen for seen in answers["seen"])  # a refusal is no reason to send it


def test_the_key_is_sent_once_and_only_after_a_401(stub: tuple[str, dict[str, Any]]) -> None:
    base, answers = stub
    challenge = {"WWW-Authenticate": 'Bearer realm="nbmcp", resource_metadata="x"'}
    answers["mcp"] = (401, b"", challenge)
    assert probe(base, timeout=5).target.auth == "oauth"
    assert all("authorization" not in seen for seen in answers["seen"])
    probed = probe(base + "/mcp", key="stub-key-1234", timeout=5)
    assert probed.target.auth == "oauth"  # the stub refuses every request: the key did not work
    assert probed.warnings == ["the server refused the key in NBMCP_API_KEY (401): check it"]
    assert [seen.get("authorization") for seen in answers["seen"][-2:]] == [None, "Bearer stub-key-1234"]
    assert probed.target.name == "stub" and probed.target.url == base + "/mcp"


def test_a_server_without_a_name_is_called_nbmcp_with_a_warning(stub: tuple[str, dict[str, Any]]) -> None:
    base, answers = stub
    answers["health"] = (404, b"", {})
    probed = probe(base, timeout=5)
    assert probed.target.name == "nbmcp" and probed.target.auth == "none"
    assert probed.warnings == [f"{base}/health gave no server name: using 'nbmcp' (--name NAME picks one)"]
    assert probe(base, name="tides", timeout=5).warnings == []
