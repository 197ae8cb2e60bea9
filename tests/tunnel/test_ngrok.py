"""ngrok through pyngrok and the agent's double: real processes, real TLS, a real nbmcp server."""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
from pathlib import Path

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.errors import TunnelError
from nbmcp.tunnel import Tunnel, open_tunnel
from tests.tunnel import kit
from tests.tunnel.kit import TunnelKit
from tests.tunnel.upstream import Upstream

PUBLIC = re.compile(r"^https://ngrok\.nbmcp\.test:\d+$")


tunnel = kit.tunnel_fixture("ngrok")


def test_the_public_url_answers_health_over_https(tunnel: Tunnel, ngrok_env: TunnelKit) -> None:
    assert PUBLIC.match(tunnel.public_url), tunnel.public_url
    assert (tunnel.provider, tunnel.forwarded_header, tunnel.holds_get_streams) == (
        "ngrok",
        "x-forwarded-for",
        False,
    )
    assert tunnel.alive() and tunnel.problem() is None
    with httpx.Client(verify=ngrok_env.ssl_context()) as client:
        answer = client.get(tunnel.public_url + "/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_the_edge_writes_the_forwarded_headers_and_keeps_the_host(
    ngrok_env: TunnelKit, echo: Upstream
) -> None:
    with open_tunnel(echo.port, "ngrok") as tunnel, httpx.Client(verify=ngrok_env.ssl_context()) as client:
        first = client.get(tunnel.public_url + "/echo", headers={"X-Forwarded-For": "6.6.6.6"}).json()
        second = client.get(tunnel.public_url + "/echo").json()
    assert first["headers"]["x-forwarded-for"] == "127.0.0.1"  # written by the edge, not the client
    assert first["headers"]["x-forwarded-proto"] == "https"
    assert first["headers"]["host"] == tunnel.public_url.removeprefix("https://")
    assert first["peer_port"] == second["peer_port"]  # one kept-alive upstream connection


def test_an_event_stream_passes_unbuffered(ngrok_env: TunnelKit, echo: Upstream) -> None:
    with (
        open_tunnel(echo.port, "ngrok") as tunnel,
        httpx.Client(verify=ngrok_env.ssl_context()) as client,
        client.stream("GET", tunnel.public_url + "/stream", timeout=20) as answer,
    ):
        lines = answer.iter_lines()
        assert next(lines) == "data: one"  # before the upstream may send more
        echo.step.set()
        rest = [line for line in lines if line]
    assert rest == ["data: two"]


def test_the_token_is_never_on_the_command_line_nor_in_logs(
    ngrok_env: TunnelKit, server: MCPServer, records_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert server.port is not None
    tunnel = open_tunnel(server.port, "ngrok")
    record = kit.only_record(records_dir, "ngrok")
    with open(f"/proc/{record['pid']}/cmdline", "rb") as cmdline:
        argv = cmdline.read().split(b"\0")
    with httpx.Client(verify=ngrok_env.ssl_context()) as client:
        assert client.get(tunnel.public_url + "/health").status_code == 200
    tunnel.close()
    token = ngrok_env.token
    assert b"--authtoken" not in argv and token.encode() not in b" ".join(argv)
    assert token not in json.dumps(record["argv"])
    assert record["authtoken_from"] == "config"
    assert record["config_modes"] == ["0o600"]
    assert caplog.records and token not in caplog.text
    config_path = Path(str(record["config_paths"][0]))  # type: ignore[index]
    assert not config_path.exists() and not config_path.parent.exists()


def test_the_inspector_is_off_in_the_agent_config(
    ngrok_env: TunnelKit, echo: Upstream, records_dir: Path
) -> None:
    with open_tunnel(echo.port, "ngrok") as tunnel:
        with httpx.Client(verify=ngrok_env.ssl_context()) as client:
            client.get(tunnel.public_url + "/echo", headers={"Authorization": "Bearer consent-secret"})
        record = kit.only_record(records_dir, "ngrok")
        with urllib.request.urlopen(f"{record['api_url']}/api/requests/http", timeout=10) as answer:
            captured = json.load(answer)
    assert record["inspect_db_size"] == -1
    assert str(record["api_url"]).startswith("http://127.0.0.1:")
    assert [endpoint["inspect"] for endpoint in record["endpoints"]] == [False]  # type: ignore[union-attr]
    assert captured["requests"] == []


def test_a_reserved_domain_is_asked_for(ngrok_env: TunnelKit, server: MCPServer, records_dir: Path) -> None:
    assert server.port is not None
    with open_tunnel(server.port, "ngrok", domain="https://Public.nbmcp.test/") as tunnel:
        assert re.match(r"^https://public\.nbmcp\.test:\d+$", tunnel.public_url), tunnel.public_url
        with httpx.Client(verify=ngrok_env.ssl_context()) as client:
            assert client.get(tunnel.public_url + "/health").status_code == 200
    body = kit.only_record(records_dir, "ngrok")["endpoints"][0]["body"]  # type: ignore[index]
    assert body["url"] == "https://public.nbmcp.test"


def test_a_domain_ngrok_refuses_is_one_line(ngrok_env: TunnelKit, server: MCPServer) -> None:
    assert server.port is not None
    with pytest.raises(TunnelError) as caught:
        open_tunnel(server.port, "ngrok", domain="not-mine.invalid")
    message = str(caught.value)
    assert "\n" not in message and "not reserved" in message and "HTTP 400" in message
    assert kit.tunnel_children() == []


def test_a_bad_token_is_one_line_with_the_token_cut_out(
    ngrok_env: TunnelKit, server: MCPServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "bad-token-1234567890"
    monkeypatch.setenv("NGROK_AUTHTOKEN", token)
    assert server.port is not None
    with pytest.raises(TunnelError) as caught:
        open_tunnel(server.port, "ngrok")
    message = str(caught.value)
    assert "\n" not in message and "ERR_NGROK_105" in message and "[redacted]" in message
    assert token not in message and caught.value.__cause__ is None
    assert "Your authtoken: [redacted]" in caplog.text  # pyngrok logged the line; the filter cut it
    assert token not in caplog.text
    assert kit.tunnel_children() == []


def test_an_agent_that_says_nothing_is_given_up_on_in_time(
    ngrok_env: TunnelKit, server: MCPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.assert_a_silent_agent_is_given_up_on(server, "ngrok", monkeypatch, r"did not come up within 2 s")


def test_a_killed_agent_is_reported_in_one_line(
    tunnel: Tunnel, records_dir: Path, server: MCPServer, ngrok_env: TunnelKit
) -> None:
    problem = kit.kill_the_agent(tunnel, records_dir, "ngrok")
    assert problem is not None and "\n" not in problem
    assert problem.startswith("the ngrok agent exited (signal 9)")
    kit.assert_the_server_outlives(tunnel, server)


def test_close_is_idempotent_and_leaves_nothing(tunnel: Tunnel) -> None:
    assert kit.close_twice(tunnel) == "the tunnel was closed (the ngrok agent stopped)"
    assert "down" in repr(tunnel)


def test_pyngrok_managed_agent_path_is_used_without_nbmcp_ngrok_path(
    ngrok_env: TunnelKit, server: MCPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NBMCP_NGROK_PATH")
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(ngrok_env.ngrok_path))  # already "downloaded"
    assert server.port is not None
    with open_tunnel(server.port) as tunnel:
        assert tunnel.provider == "ngrok" and tunnel.alive()


def test_two_tunnels_get_two_agents(ngrok_env: TunnelKit, server: MCPServer, records_dir: Path) -> None:
    assert server.port is not None
    with open_tunnel(server.port, "ngrok") as one, open_tunnel(server.port, "ngrok") as two:
        assert one.public_url != two.public_url
        assert len({r["pid"] for r in kit.records(records_dir, "ngrok")}) == 2
        one.close()
        assert two.alive()
        with httpx.Client(verify=ngrok_env.ssl_context()) as client:
            assert client.get(two.public_url + "/health").status_code == 200


def test_no_ngrok_private_directory_is_left(ngrok_env: TunnelKit, server: MCPServer, tmp_path: Path) -> None:
    import tempfile

    before = {p.name for p in Path(tempfile.gettempdir()).glob("nbmcp-ngrok-*")}
    assert server.port is not None
    with open_tunnel(server.port, "ngrok"):
        during = {p.name for p in Path(tempfile.gettempdir()).glob("nbmcp-ngrok-*")} - before
        assert len(during) == 1
        (folder,) = during
        assert os.stat(Path(tempfile.gettempdir(), folder)).st_mode & 0o777 == 0o700
    after = {p.name for p in Path(tempfile.gettempdir()).glob("nbmcp-ngrok-*")}
    assert after == before
