"""Choosing a provider and the one-line refusals, before any process starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nbmcp.errors import TunnelUnavailableError
from nbmcp.tunnel import PROVIDERS, Tunnel, choose_provider, open_tunnel
from nbmcp.tunnel.ngrok_setup import AUTHTOKEN_URL, find_token
from tests.tunnel.kit import TunnelKit, tunnel_children

INSTALL_URL = "https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/"


def _pyngrok_config(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pyngrok" / "ngrok.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    monkeypatch.setattr("pyngrok.conf.DEFAULT_NGROK_CONFIG_PATH", str(path))


def test_the_registry_names_both_providers_in_order_of_preference() -> None:
    assert list(PROVIDERS) == ["ngrok", "cloudflared"]
    for name, provider in PROVIDERS.items():
        assert provider.name == name
        assert "\n" not in provider.how


def test_a_token_chooses_ngrok_even_with_cloudflared_at_hand(
    monkeypatch: pytest.MonkeyPatch, tunnel_kit: TunnelKit
) -> None:
    monkeypatch.setenv("NGROK_AUTHTOKEN", "some-token")
    monkeypatch.setenv("NBMCP_CLOUDFLARED_PATH", str(tunnel_kit.cloudflared_path))
    assert choose_provider() == "ngrok"


def test_without_a_token_the_cloudflared_binary_is_chosen(
    monkeypatch: pytest.MonkeyPatch, tunnel_kit: TunnelKit
) -> None:
    monkeypatch.setenv("NBMCP_CLOUDFLARED_PATH", str(tunnel_kit.cloudflared_path))
    assert choose_provider() == "cloudflared"


def test_cloudflared_on_path_is_found(monkeypatch: pytest.MonkeyPatch, tunnel_kit: TunnelKit) -> None:
    monkeypatch.setenv("PATH", f"{tunnel_kit.bin_dir}:/usr/bin:/bin")
    assert choose_provider() == "cloudflared"


def test_neither_lists_both_ways_in_two_lines() -> None:
    with pytest.raises(TunnelUnavailableError) as caught:
        choose_provider()
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert "NGROK_AUTHTOKEN" in lines[0] and AUTHTOKEN_URL in lines[0]
    assert "cloudflared" in lines[1] and INSTALL_URL in lines[1]
    with pytest.raises(TunnelUnavailableError, match="no tunnel provider"):
        open_tunnel(8000)


@pytest.mark.parametrize(
    "text",
    ["version: 3\nagent:\n  authtoken: from-the-v3-file\n", "version: 2\nauthtoken: from-the-v3-file\n"],
)
def test_the_token_in_pyngrok_config_file_counts(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pyngrok_config(tmp_path, text, monkeypatch)
    assert find_token() == "from-the-v3-file"
    assert choose_provider() == "ngrok"


def test_the_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pyngrok_config(tmp_path, "version: 3\nagent:\n  authtoken: in-file\n", monkeypatch)
    monkeypatch.setenv("NGROK_AUTHTOKEN", "  in-env  ")
    assert find_token() == "in-env"


@pytest.mark.parametrize("text", ["", "version: 3\nagent:\n  authtoken: ''\n", "- a list\n", "version: [3\n"])
def test_an_empty_or_broken_pyngrok_file_holds_no_token(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pyngrok_config(tmp_path, text, monkeypatch)
    assert find_token() is None


def test_no_token_is_one_line_with_where_to_get_one() -> None:
    with pytest.raises(TunnelUnavailableError) as caught:
        open_tunnel(8000, "ngrok")
    message = str(caught.value)
    assert "\n" not in message
    assert "NGROK_AUTHTOKEN" in message and AUTHTOKEN_URL in message


def test_an_agent_path_that_is_not_there_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NGROK_AUTHTOKEN", "secret-token-value")
    monkeypatch.setenv("NBMCP_NGROK_PATH", str(tmp_path / "no-ngrok"))
    with pytest.raises(TunnelUnavailableError) as caught:
        open_tunnel(8000, "ngrok")
    message = str(caught.value)
    assert "\n" not in message and "NBMCP_NGROK_PATH" in message and "no-ngrok" in message
    assert "secret-token-value" not in message


def test_no_cloudflared_is_one_line_with_how_to_install() -> None:
    with pytest.raises(TunnelUnavailableError) as caught:
        open_tunnel(8000, "cloudflared")
    message = str(caught.value)
    assert "\n" not in message and INSTALL_URL in message and "brew install cloudflared" in message


def test_a_cloudflared_path_that_is_not_there_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NBMCP_CLOUDFLARED_PATH", str(tmp_path / "nothing"))
    with pytest.raises(TunnelUnavailableError, match=r"NBMCP_CLOUDFLARED_PATH=.*nothing") as caught:
        open_tunnel(8000, "cloudflared")
    assert "\n" not in str(caught.value)


def test_a_domain_with_cloudflared_says_it_needs_an_account(cloudflared_env: TunnelKit) -> None:
    with pytest.raises(TunnelUnavailableError) as caught:
        open_tunnel(8000, "cloudflared", domain="mcp.example.com")
    message = str(caught.value)
    assert "\n" not in message and "account" in message and "named tunnel" in message
    assert tunnel_children() == []


def test_an_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(TunnelUnavailableError) as caught:
        open_tunnel(8000, "frp")
    assert str(caught.value) == "unknown tunnel provider 'frp'; choose one of: ngrok, cloudflared"


@pytest.mark.parametrize("domain", ["a b.example", "example.com/path", "user@example.com"])
def test_a_domain_must_be_a_host_name(domain: str, ngrok_env: TunnelKit) -> None:
    with pytest.raises(TunnelUnavailableError, match="host name"):
        open_tunnel(8000, "ngrok", domain=domain)


@pytest.mark.parametrize(("port", "timeout"), [(0, 30.0), (70000, 30.0), (8000, 0.0)])
def test_nonsense_port_or_timeout_is_a_value_error(port: int, timeout: float) -> None:
    with pytest.raises(ValueError):
        open_tunnel(port, "ngrok", timeout=timeout)


def test_tunnel_is_an_abstract_interface() -> None:
    with pytest.raises(TypeError):
        Tunnel()  # type: ignore[abstract]


def test_importing_the_package_imports_no_provider_library() -> None:
    code = (
        "import sys\n"
        "import nbmcp.tunnel\n"
        "from nbmcp.tunnel import PROVIDERS, choose_provider, open_tunnel, Tunnel\n"
        "import nbmcp.tunnel.ngrok, nbmcp.tunnel.cloudflared\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyngrok', 'yaml', 'trustme')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
