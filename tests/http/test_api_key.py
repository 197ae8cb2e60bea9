"""API keys: from ``MCPServer(api_key=...)``, ``nbmcp serve --api-key`` and ``$NBMCP_API_KEY``.

Without the key every endpoint but ``/health`` answers 401 with a ``WWW-Authenticate`` challenge;
with it (``X-API-Key`` or ``Authorization: Bearer``) requests go through. The key must never be
echoed: not in a response body, not in a header, not in the server's own output.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from tests.peers import oracle
from tests.peers.peerkit import REPO, bare_client, cli_server, health_url, rpc

pytestmark = pytest.mark.timeout(90)

KEY = "nbmcp-test-key-7Hq2ZxW9"  # distinctive, so a leak cannot be a coincidence
WRONG = "wrong-key-3Fd8"
LIST = rpc("tools/list", msg_id=1)
CALL = rpc("tools/call", {"name": "get_weather", "arguments": {"city": "Tokyo"}}, msg_id=2)
WEATHER = REPO / "examples" / "weather.py"


def build_server(**kwargs: Any) -> MCPServer:
    server = MCPServer("keyed", **kwargs)

    @server.tool
    def get_weather(city: str) -> dict[str, Any]:
        """A stand-in for the example's tool."""
        return {"city": city, "temperature": 18.5}

    return server


class Recorder:
    """Every response a test saw, so leaks can be checked across all of them at the end."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def keep(self, response: httpx.Response) -> httpx.Response:
        self.responses.append(response)
        return response

    def assert_no_leak(self, secret: str) -> None:
        for response in self.responses:
            assert secret not in response.text, (
                f"key echoed in body of {response.request.method} {response.url}"
            )
            for name, value in response.headers.items():
                assert secret not in value, f"key echoed in response header {name}"


def check_key_enforced(url: str, key: str) -> None:
    """The full contract, against any running server whose key is ``key``."""
    recorder = Recorder()
    plain = {"Content-Type": "application/json"}
    with bare_client() as http:
        # No key, wrong key (either header): 401 + challenge, and nothing of the server's answers.
        for headers in (
            plain,
            {**plain, "X-API-Key": WRONG},
            {**plain, "Authorization": f"Bearer {WRONG}"},
            {**plain, "Authorization": f"Basic {key}"},  # the right secret in the wrong scheme
            {**plain, "X-API-Key": ""},
            {**plain, "Authorization": "Bearer"},
        ):
            for body in (LIST, CALL):
                response = recorder.keep(http.post(url, json=body, headers=headers))
                assert response.status_code == 401, (headers, response.status_code, response.text)
                challenge = response.headers.get("www-authenticate", "")
                assert challenge, "401 must carry WWW-Authenticate (RFC 9110 section 11.6.1)"
                assert challenge.lower().startswith("bearer"), challenge
                assert "tools" not in response.text and "Tokyo" not in response.text
                oracle.validate_answer(body["method"], response.json(), "2025-11-25", expect="error")

        # Other methods and paths on the MCP endpoint are guarded too.
        for response in (
            http.get(url, headers={"Accept": "text/event-stream"}),
            http.delete(url, headers={"Mcp-Session-Id": "whatever"}),
            http.get(url.rsplit("/mcp", 1)[0] + "/mcp/", headers={"Accept": "text/event-stream"}),
        ):
            recorder.keep(response)
            assert response.status_code == 401, (response.request.method, response.url, response.status_code)
            assert response.headers.get("www-authenticate")

        # The right key, either way: 200 and a valid answer.
        for headers in ({**plain, "X-API-Key": key}, {**plain, "Authorization": f"Bearer {key}"}):
            response = recorder.keep(http.post(url, json=LIST, headers=headers))
            assert response.status_code == 200, (headers, response.text)
            result = oracle.validate_answer("tools/list", response.json(), "2025-11-25", request_id=1)
            assert [t["name"] for t in result["tools"]] == ["get_weather"]
            response = recorder.keep(http.post(url, json=CALL, headers=headers))
            assert response.status_code == 200
            result = oracle.validate_answer("tools/call", response.json(), "2025-11-25", request_id=2)
            assert result["isError"] is False

        # A whole session with the key (initialize, then requests carrying the session id).
        auth = {**plain, "Accept": "application/json, text/event-stream", "X-API-Key": key}
        init = rpc(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "k", "version": "0"},
            },
            msg_id=3,
        )
        response = recorder.keep(http.post(url, json=init, headers=auth))
        assert response.status_code == 200
        oracle.validate_answer("initialize", response.json(), "2025-11-25", request_id=3)
        session = response.headers["mcp-session-id"]
        in_session = {**auth, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        response = recorder.keep(http.post(url, json=rpc("ping", msg_id=4), headers=in_session))
        assert response.status_code == 200
        # The session id alone is not a credential.
        no_key = {k: v for k, v in in_session.items() if k != "X-API-Key"}
        response = recorder.keep(http.post(url, json=rpc("ping", msg_id=5), headers=no_key))
        assert response.status_code == 401
        response = recorder.keep(http.delete(url, headers=in_session))
        assert response.status_code in (200, 204)

        # /health stays open.
        response = recorder.keep(http.get(health_url(url)))
        assert response.status_code == 200 and response.json()["status"] == "ok"

    recorder.assert_no_leak(key)


# -- in-process --------------------------------------------------------------------------------


def test_api_key_argument(serve: Any) -> None:
    check_key_enforced(serve(build_server(api_key=KEY)), KEY)


def test_api_key_from_environment(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBMCP_API_KEY", KEY)
    server = build_server()
    assert KEY not in repr(server.config)
    check_key_enforced(serve(server), KEY)


def test_argument_wins_over_environment(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBMCP_API_KEY", WRONG)
    url = serve(build_server(api_key=KEY))
    with bare_client() as http:
        headers = {"Content-Type": "application/json"}
        assert http.post(url, json=LIST, headers={**headers, "X-API-Key": KEY}).status_code == 200
        assert http.post(url, json=LIST, headers={**headers, "X-API-Key": WRONG}).status_code == 401


def test_no_key_means_open(serve: Any) -> None:
    url = serve(build_server())
    with bare_client() as http:
        response = http.post(url, json=LIST, headers={"Content-Type": "application/json"})
        assert response.status_code == 200
        oracle.validate_answer("tools/list", response.json(), "2025-11-25", request_id=1)


# -- nbmcp serve in a subprocess ---------------------------------------------------------------


@pytest.fixture
def cli_env() -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env.pop("NBMCP_API_KEY", None)
    yield env


def weather_check(url: str, key: str) -> None:
    """check_key_enforced, adapted to the example server's tools."""
    with bare_client() as http:
        plain = {"Content-Type": "application/json"}
        response = http.post(url, json=CALL, headers=plain)
        assert response.status_code == 401 and response.headers.get("www-authenticate")
        oracle.validate_answer("tools/call", response.json(), "2025-11-25", expect="error")
        response = http.post(url, json=CALL, headers={**plain, "Authorization": f"Bearer {key}"})
        assert response.status_code == 200
        result = oracle.validate_answer("tools/call", response.json(), "2025-11-25", request_id=2)
        assert result["structuredContent"] == {"city": "Tokyo", "temperature": 18.5, "unit": "celsius"}
        assert key not in response.text


def assert_output_clean(server: Any, key: str) -> None:
    stdout, stderr = server.output()
    assert key not in stdout, f"key printed on stdout:\n{stdout}"
    assert key not in stderr, f"key printed on stderr:\n{stderr}"


def test_cli_api_key_flag(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with cli_server(WEATHER, tmp_path, "--api-key", KEY, env=cli_env) as server:
        weather_check(server.url, KEY)
        check_cli_contract(server.url, KEY)
    assert_output_clean(server, KEY)
    stdout, _ = server.output()
    assert "nbmcp: serving 'weather'" in stdout, stdout


def test_cli_api_key_from_environment(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with cli_server(WEATHER, tmp_path, env={**cli_env, "NBMCP_API_KEY": KEY}) as server:
        weather_check(server.url, KEY)
        check_cli_contract(server.url, KEY)
    assert_output_clean(server, KEY)


def check_cli_contract(url: str, key: str) -> None:
    recorder = Recorder()
    plain = {"Content-Type": "application/json"}
    with bare_client() as http:
        for headers in (plain, {**plain, "X-API-Key": WRONG}, {**plain, "Authorization": f"Bearer {WRONG}"}):
            response = recorder.keep(http.post(url, json=LIST, headers=headers))
            assert response.status_code == 401 and response.headers.get("www-authenticate"), response.text
        for headers in ({**plain, "X-API-Key": key}, {**plain, "Authorization": f"Bearer {key}"}):
            response = recorder.keep(http.post(url, json=LIST, headers=headers))
            assert response.status_code == 200
            result = oracle.validate_answer("tools/list", response.json(), "2025-11-25", request_id=1)
            assert {t["name"] for t in result["tools"]} == {"get_weather", "slow_count", "forecast_lines"}
        response = recorder.keep(http.get(health_url(url)))
        assert response.status_code == 200
    recorder.assert_no_leak(key)
