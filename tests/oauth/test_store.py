"""The authorization server's store: one 0600 file under the user's config directory, or memory only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import orjson
import pytest

from nbmcp.auth.store import FileStore, config_dir, store_path
from tests.oauth.consentkit import base_of, call_tool, client, full_grant, oauth_server

pytestmark = pytest.mark.timeout(60)


def test_config_dir_honours_xdg(config_home: Path) -> None:
    assert config_dir() == config_home / "nbmcp"
    assert store_path("weather http://127.0.0.1:8000").parent == config_home / "nbmcp"
    one = store_path("weather http://127.0.0.1:8000")
    assert one == store_path("weather http://127.0.0.1:8000")
    assert one != store_path("weather http://127.0.0.1:8001") != store_path("other http://127.0.0.1:8000")
    assert one.name.startswith("oauth-weather-") and one.suffix == ".json"


def test_file_store_is_private_atomic_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "oauth-x.json"
    store = FileStore(path)
    store.put("clients", "c1", {"client_id": "c1"})
    store.update([("refresh", "d1", {"family": "f"}), ("clients", "c2", {"client_id": "c2"})])
    store.delete("clients", "c1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(path.parent)) == ["oauth-x.json"]  # no temporary file left behind
    again = FileStore(path)
    assert again.get("clients", "c2") == {"client_id": "c2"} and again.get("clients", "c1") is None
    assert again.items("refresh") == [("d1", {"family": "f"})]
    record = again.get("clients", "c2")
    assert record is not None
    record["client_id"] = "changed"  # a copy: changing it changes nothing stored
    assert again.get("clients", "c2") == {"client_id": "c2"}


def test_corrupt_file_is_set_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "oauth-y.json"
    path.write_bytes(b"{half a file")
    store = FileStore(path)
    assert store.items("clients") == []
    assert (tmp_path / "oauth-y.json.corrupt").read_bytes() == b"{half a file"


def test_server_state_file_holds_no_token_and_is_0600(config_home: Path) -> None:
    server = oauth_server("store-check")
    server.start()
    try:
        base = base_of(str(server.url))
        with client() as http:
            grant = full_grant(http, server, base)
        files = list((config_home / "nbmcp").glob("oauth-store-check-*.json"))
        assert len(files) == 1
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        raw = files[0].read_text()
        for secret in (grant.tokens["access_token"], grant.tokens["refresh_token"], str(server.access_key)):
            assert secret not in raw
        data = orjson.loads(raw)
        assert grant.client_id in data["clients"] and len(data["refresh"]) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["env", "configure"])
def test_memory_only_option(config_home: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "env":
        monkeypatch.setenv("NBMCP_OAUTH_STORE", "memory")
    server = oauth_server("memory-only")
    if how == "configure":
        server.oauth.configure(store="memory")
    server.start()
    port = server.port
    try:
        base = base_of(str(server.url))
        with client() as http:
            grant = full_grant(http, server, base)
            assert call_tool(http, base, grant.tokens["access_token"]).status_code == 200
    finally:
        server.stop()
    assert not (config_home / "nbmcp").exists()
    again = oauth_server("memory-only")
    if how == "configure":
        again.oauth.configure(store="memory")
    again.start(port=port)
    try:
        with httpx.Client(trust_env=False) as http:  # a new signing key: the old token means nothing
            assert call_tool(http, base, grant.tokens["access_token"]).status_code == 401
    finally:
        again.stop()


def test_revocations_and_rotations_survive_a_restart(config_home: Path) -> None:
    server = oauth_server("restart-revoke")
    server.start()
    port = server.port
    base = base_of(str(server.url))
    try:
        with client() as http:
            revoked = full_grant(http, server, base)
            kept = full_grant(http, server, base)
            http.post(f"{base}/revoke", data={"token": revoked.tokens["access_token"]})
            form = {"grant_type": "refresh_token", "client_id": kept.client_id}
            spent = kept.tokens["refresh_token"]
            rotated = http.post(f"{base}/token", data={**form, "refresh_token": spent}).json()
    finally:
        server.stop()
    again = oauth_server("restart-revoke")
    again.start(port=port)
    try:
        with client() as http:
            assert call_tool(http, base, revoked.tokens["access_token"]).status_code == 401
            assert call_tool(http, base, rotated["access_token"]).status_code == 200
            # The refresh token spent before the restart is still known as spent: its reuse revokes all.
            assert http.post(f"{base}/token", data={**form, "refresh_token": spent}).status_code == 400
            assert call_tool(http, base, rotated["access_token"]).status_code == 401
    finally:
        again.stop()
