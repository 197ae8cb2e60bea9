"""cloudflared quick tunnels through cloudflared's double: real processes, real TLS."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.errors import TunnelError
from nbmcp.tunnel import Tunnel, open_tunnel
from tests.tunnel import kit
from tests.tunnel.kit import TunnelKit
from tests.tunnel.upstream import Upstream

PUBLIC = re.compile(r"^https://cloudflared\.nbmcp\.test:\d+$")


tunnel = kit.tunnel_fixture("cloudflared")


def test_the_public_url_answers_health_over_https(
    tunnel: Tunnel, cloudflared_env: TunnelKit, server: MCPServer, records_dir: Path
) -> None:
    assert PUBLIC.match(tunnel.public_url), tunnel.public_url
    assert (tunnel.provider, tunnel.forwarded_header, tunnel.holds_get_streams) == (
        "cloudflared",
        "cf-connecting-ip",
        True,
    )
    with httpx.Client(verify=cloudflared_env.ssl_context()) as client:
        answer = client.get(tunnel.public_url + "/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    argv = kit.only_record(records_dir, "cloudflared")["argv"]
    assert argv == [
        "tunnel",
        "--no-autoupdate",
        "--metrics",
        "127.0.0.1:0",
        "--url",
        f"http://127.0.0.1:{server.port}",
    ]


def test_the_edge_writes_cf_connecting_ip(cloudflared_env: TunnelKit, echo: Upstream) -> None:
    with (
        open_tunnel(echo.port, "cloudflared") as tunnel,
        httpx.Client(verify=cloudflared_env.ssl_context()) as client,
    ):
        seen = client.get(tunnel.public_url + "/echo", headers={"Cf-Connecting-Ip": "6.6.6.6"}).json()
    headers = seen["headers"]
    assert headers["cf-connecting-ip"] == "127.0.0.1"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["host"] == tunnel.public_url.removeprefix("https://")


def test_a_post_event_stream_passes_unbuffered(cloudflared_env: TunnelKit, echo: Upstream) -> None:
    with (
        open_tunnel(echo.port, "cloudflared") as tunnel,
        httpx.Client(verify=cloudflared_env.ssl_context()) as client,
        client.stream("POST", tunnel.public_url + "/stream", content=b"{}", timeout=20) as answer,
    ):
        lines = answer.iter_lines()
        assert next(lines) == "data: one"
        echo.step.set()
        rest = [line for line in lines if line]
    assert rest == ["data: two"]


def test_a_get_event_stream_is_held_until_it_ends(
    cloudflared_env: TunnelKit, echo: Upstream, records_dir: Path
) -> None:
    echo.step.set()  # the stream ends at once: held, it still arrives whole
    with (
        open_tunnel(echo.port, "cloudflared") as tunnel,
        httpx.Client(verify=cloudflared_env.ssl_context()) as client,
    ):
        answer = client.get(tunnel.public_url + "/stream", timeout=20)
    assert answer.text == "data: one\n\ndata: two\n\n"
    assert kit.only_record(records_dir, "cloudflared")["held"] == 1


def test_a_failed_quick_tunnel_request_is_one_line(
    cloudflared_env: TunnelKit, server: MCPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBMCP_FAKE_MODE", "fail")
    assert server.port is not None
    with pytest.raises(TunnelError) as caught:
        open_tunnel(server.port, "cloudflared")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "cloudflared exited (code 1) before the tunnel was up: failed to request quick Tunnel"
    )
    assert kit.tunnel_children() == []


def test_a_cloudflared_that_says_nothing_is_given_up_on_in_time(
    cloudflared_env: TunnelKit, server: MCPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.assert_a_silent_agent_is_given_up_on(
        server, "cloudflared", monkeypatch, r"^cloudflared gave no tunnel URL within 2 s$"
    )


def test_a_killed_cloudflared_is_reported_in_one_line(
    tunnel: Tunnel, records_dir: Path, server: MCPServer
) -> None:
    assert kit.kill_the_agent(tunnel, records_dir, "cloudflared") == "cloudflared exited (signal 9)"
    kit.assert_the_server_outlives(tunnel, server)


def test_close_is_idempotent_and_leaves_nothing(tunnel: Tunnel) -> None:
    assert kit.close_twice(tunnel) == "the tunnel was closed (cloudflared stopped)"


def test_the_default_is_cloudflared_without_a_token(cloudflared_env: TunnelKit, server: MCPServer) -> None:
    assert server.port is not None
    with open_tunnel(server.port) as tunnel:
        assert tunnel.provider == "cloudflared"
