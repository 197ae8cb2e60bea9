"""The doubles behave as the real agents do toward their callers (so the other tests mean something)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyngrok import conf, ngrok, process
from pyngrok.exception import PyngrokNgrokError

from tests.tunnel.kit import TunnelKit, records
from tests.tunnel.upstream import Upstream


@pytest.fixture
def pyngrok_config(tunnel_kit: TunnelKit, tmp_path: Path) -> Iterator[conf.PyngrokConfig]:
    """pyngrok driving the double directly, the way a user's own pyngrok code would."""
    config = conf.PyngrokConfig(
        ngrok_path=str(tunnel_kit.ngrok_path), config_path=str(tmp_path / "ngrok.yml"), monitor_thread=False
    )
    config.auth_token = None
    yield config
    running = process._current_processes.get(config.ngrok_path)
    ngrok.kill(config)
    if running is not None and running.proc.stdout is not None:
        running.proc.stdout.close()


def test_version_answers_like_the_agent(tunnel_kit: TunnelKit, pyngrok_config: conf.PyngrokConfig) -> None:
    out = subprocess.run([tunnel_kit.ngrok_path, "version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ngrok version 3.")
    agent_version, pyngrok_version = ngrok.get_version(pyngrok_config)
    assert agent_version.startswith("3.") and pyngrok_version == "9.1.0"
    out = subprocess.run(
        [tunnel_kit.cloudflared_path, "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("cloudflared version 20")


def test_no_authtoken_is_err_ngrok_4018(pyngrok_config: conf.PyngrokConfig, tmp_path: Path) -> None:
    (tmp_path / "ngrok.yml").write_text("version: 3\nagent:\n  web_addr: 127.0.0.1:0\n")
    with pytest.raises(PyngrokNgrokError) as caught:
        ngrok.connect("8000", pyngrok_config=pyngrok_config)
    assert caught.value.ngrok_error_code == "ERR_NGROK_4018"


def test_add_authtoken_saves_it_where_pyngrok_expects(
    pyngrok_config: conf.PyngrokConfig, tmp_path: Path
) -> None:
    ngrok.set_auth_token("saved-token", pyngrok_config=pyngrok_config)
    text = (tmp_path / "ngrok.yml").read_text()
    assert "saved-token" in text and "agent:" in text


def test_the_inspector_records_requests_unless_turned_off(
    tunnel_kit: TunnelKit,
    pyngrok_config: conf.PyngrokConfig,
    tmp_path: Path,
    echo: Upstream,
    records_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the agent's defaults every request is kept, headers and all: why nbmcp turns it off."""
    (tmp_path / "ngrok.yml").write_text(
        f"version: 3\nagent:\n  authtoken: {tunnel_kit.token}\n  web_addr: 127.0.0.1:0\n"
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(tunnel_kit.ca_file))
    endpoint = ngrok.connect(str(echo.port), pyngrok_config=pyngrok_config)
    assert endpoint.public_url is not None and endpoint.public_url.startswith("https://ngrok.nbmcp.test:")
    with httpx.Client(verify=tunnel_kit.ssl_context()) as client:
        client.get(endpoint.public_url + "/echo", headers={"Authorization": "Bearer consent-secret"})
    (record,) = records(records_dir, "ngrok")
    assert record["inspect_db_size"] is None  # the agent's default: inspection on
    with urllib.request.urlopen(f"{record['api_url']}/api/requests/http", timeout=10) as answer:
        captured = json.load(answer)["requests"]
    assert captured[0]["request"]["headers"]["authorization"] == ["Bearer consent-secret"]
    listed = ngrok.get_tunnels(pyngrok_config)
    assert [t.public_url for t in listed] == [endpoint.public_url]
    ngrok.disconnect(endpoint.public_url, pyngrok_config)
    assert ngrok.get_tunnels(pyngrok_config) == []


def test_the_agent_stops_on_sigterm_as_asked(
    tunnel_kit: TunnelKit, pyngrok_config: conf.PyngrokConfig, tmp_path: Path
) -> None:
    (tmp_path / "ngrok.yml").write_text(
        f"version: 3\nagent:\n  authtoken: {tunnel_kit.token}\n  web_addr: 127.0.0.1:0\n"
    )
    running = ngrok.get_ngrok_process(pyngrok_config)
    running.proc.terminate()
    assert running.proc.wait(10) == 0
    assert os.path.exists(pyngrok_config.ngrok_path)
