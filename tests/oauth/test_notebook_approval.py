"""Approval from the notebook: the consent page shows a short code; ``%mcp approve CODE`` says yes.

The owner never types the key in the browser: the page's Continue button then sends the
browser back to the client with a code. ``%mcp start --oauth`` shows the generated owner key
masked only, so the saved notebook never holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from nbmcp import MCPServer
from tests.notebook.kernelkit import Kernel, kernel_fixture  # noqa: F401  (the kernel fixture)
from tests.oauth.consentkit import (
    REDIRECT,
    approve_form,
    authorize_url,
    base_of,
    client,
    oauth_server,
    pkce,
    read_forms,
    register,
)

pytestmark = pytest.mark.timeout(120)

_CODE = re.compile(r'<span class="code">([A-Z2-9]{4}-[A-Z2-9]{4})</span>')


def _continue(http: httpx.Client, base: str, page: str) -> httpx.Response:
    forms = [f for f in read_forms(page).forms if f.buttons.get("action") == "continue"]
    assert len(forms) == 1
    return http.post(f"{base}/authorize", data={**forms[0].fields, "action": "continue"})


@pytest.fixture
def server() -> Iterator[MCPServer]:
    server = oauth_server("approve-here")
    server.start()
    yield server
    server.stop()


def test_code_on_the_page_approves_from_python(server: MCPServer) -> None:
    base = base_of(str(server.url))
    with client() as http:
        client_id = register(http, base)["client_id"]
        _, challenge = pkce()
        page = http.get(authorize_url(base, client_id, challenge)).text
        code = _CODE.search(page)
        assert code is not None
        early = _continue(http, base, page)  # not approved yet: the page again, no redirect
        assert early.status_code == 200 and "location" not in early.headers
        assert "Not approved in the notebook yet" in early.text
        assert [p.approval_code for p in server.oauth.waiting()] == [code.group(1)]
        assert server.oauth.approve("ZZZZ-ZZZZ") is None
        approved = server.oauth.approve(code.group(1).lower().replace("-", " "))  # as typed, loosely
        assert approved is not None and approved.redirect_host == "127.0.0.1:47123"
        answer = _continue(http, base, page)
        assert answer.status_code == 303
        location = httpx.URL(answer.headers["location"])
        assert (
            str(location).startswith(REDIRECT)
            and location.params["code"]
            and location.params["state"] == "st-1"
        )
        assert server.oauth.waiting() == []


def test_magics_start_oauth_masks_the_key_and_approve_confirms(kernel: Kernel) -> None:
    kernel.run("%%mcp_tool\ndef add(a: int, b: int) -> int:\n    return a + b\n").ok()
    started = kernel.run("%mcp start --oauth --port 0").ok().stdout
    key = kernel.run("import nbmcp; print(nbmcp.current_server().access_key)").ok().stdout.strip()
    assert len(key) >= 24
    assert key not in started and f"\u2022\u2022\u2022\u2022{key[-4:]}" in started
    assert "%mcp approve CODE" in started
    url = re.search(r"at (http://127\.0\.0\.1:\d+/mcp)", started)
    assert url is not None
    base = base_of(url.group(1))
    assert "no client is waiting" in kernel.run("%mcp approve").ok().stdout
    with client() as http:
        client_id = register(http, base, client_name="Phone Client")["client_id"]
        _, challenge = pkce()
        page = http.get(authorize_url(base, client_id, challenge)).text
        approve_form(page)
        code = _CODE.search(page)
        assert code is not None
        listed = kernel.run("%mcp approve").ok().stdout
        assert code.group(1) in listed and "Phone Client" in listed and "127.0.0.1:47123" in listed
        wrong = kernel.run("%mcp approve ABCD-EFGH")
        assert "UsageError: %mcp approve: no consent page shows" in wrong.stderr
        said = kernel.run(f"%mcp approve {code.group(1)}").ok().stdout
        assert "approved 'Phone Client'" in said and "127.0.0.1:47123" in said
        answer = _continue(http, base, page)
        assert answer.status_code == 303 and "code=" in answer.headers["location"]
    assert "UsageError" not in kernel.run("%mcp stop").stderr
