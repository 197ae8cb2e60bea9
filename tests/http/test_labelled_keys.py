"""Labelled API keys: each label is the caller's principal, in call records and ``Context``.

``MCPServer(api_key=..., api_keys={...})``, ``nbmcp serve --api-key [LABEL=]KEY`` (repeatable,
split at the first ``=``) and ``--api-key-file FILE``. The owner key is ``api_key`` (principal
``default``) or the key labelled ``owner``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbmcp import Context, MCPServer
from nbmcp.config import parse_api_key, read_api_key_file
from tests.peers import oracle
from tests.peers.peerkit import cli_server, rpc

pytestmark = pytest.mark.timeout(90)

OWNER = "owner-key-Lr5"
CURSOR = "cursor-key-Vb2"
CI = "ci=key=with=equals"  # a key holding '=' needs a label


def build(**kwargs: Any) -> MCPServer:
    server = MCPServer("labels", **kwargs)

    @server.tool
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the server thinks is calling."""
        who = ctx.principal
        return {"name": who.name if who else None, "owner": bool(who and who.owner)}

    return server


def _call(url: str, key: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    body = rpc("tools/call", {"name": "whoami", "arguments": {}}, msg_id=7)
    return httpx.post(url, json=body, headers=headers, timeout=10)


def _whoami(url: str, key: str) -> dict[str, Any]:
    answer = _call(url, key)
    assert answer.status_code == 200, answer.text
    result = oracle.validate_answer("tools/call", answer.json(), "2025-11-25", request_id=7, expect="result")
    structured: dict[str, Any] = result["structuredContent"]
    return structured


def test_each_label_is_its_callers_principal(serve: Any) -> None:
    server = build(api_key=OWNER, api_keys={"cursor": CURSOR, "owner": "second-owner-Kk0"})
    url = serve(server)
    assert _whoami(url, OWNER) == {"name": "default", "owner": True}
    assert _whoami(url, CURSOR) == {"name": "cursor", "owner": False}
    assert _whoami(url, "second-owner-Kk0") == {"name": "owner", "owner": True}
    for wrong in (None, "nope", CURSOR + "x", CURSOR[:-1]):
        refused = _call(url, wrong)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer ")
    assert [r.principal for r in server.monitor.journal] == ["default", "cursor", "owner"]
    for key in (OWNER, CURSOR, "second-owner-Kk0"):
        assert key not in repr(server.config)


def test_labelled_keys_alone_require_a_key(serve: Any) -> None:
    url = serve(build(api_keys={"ci": CI}))
    assert _call(url, None).status_code == 401
    assert _whoami(url, CI) == {"name": "ci", "owner": False}


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("plain-key", (None, "plain-key")),
        ("cursor=K1", ("cursor", "K1")),
        ("ci=a=b=", ("ci", "a=b=")),
    ],
)
def test_api_key_option_splits_at_the_first_equals(value: str, parsed: tuple[str | None, str]) -> None:
    assert parse_api_key(value) == parsed


@pytest.mark.parametrize("value", ["=K", "label="])
def test_api_key_option_needs_both_sides(value: str) -> None:
    with pytest.raises(ValueError, match="LABEL=KEY"):
        parse_api_key(value)


def test_key_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("# team keys\n\nalice  key-a\nbob key b with spaces\n")
    assert read_api_key_file(str(path)) == {"alice": "key-a", "bob": "key b with spaces"}
    path.write_text("alice key-a\nalice key-b\n")
    with pytest.raises(ValueError, match="given twice"):
        read_api_key_file(str(path))
    path.write_text("lonely\n")
    with pytest.raises(ValueError, match=r"keys:1: expected 'LABEL KEY'"):
        read_api_key_file(str(path))


SERVED = textwrap.dedent(
    '''
    from typing import Any

    from nbmcp import Context, MCPServer

    server = MCPServer("labels")

    @server.tool
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the server thinks is calling."""
        who = ctx.principal
        return {"name": who.name if who else None, "owner": bool(who and who.owner)}
    '''
)


def test_cli_flags_and_key_file(tmp_path: Path) -> None:
    target = tmp_path / "labels.py"
    target.write_text(SERVED)
    keys = tmp_path / "keys.txt"
    keys.write_text("# one LABEL KEY a line\nnotebook nb-key-Qe4\n")
    flags = ["--api-key", OWNER, "--api-key", f"cursor={CURSOR}", "--api-key", f"ci={CI}"]
    with cli_server(target, tmp_path, *flags, "--api-key-file", str(keys)) as server:
        assert _whoami(server.url, OWNER) == {"name": "default", "owner": True}
        assert _whoami(server.url, CURSOR) == {"name": "cursor", "owner": False}
        assert _whoami(server.url, CI) == {"name": "ci", "owner": False}
        assert _whoami(server.url, "nb-key-Qe4") == {"name": "notebook", "owner": False}
        assert _call(server.url, "key=with=equals").status_code == 401  # not split a second time
        assert _call(server.url, None).status_code == 401
    stdout, stderr = server.output()
    for secret in (OWNER, CURSOR, CI, "nb-key-Qe4"):
        assert secret not in stdout and secret not in stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--api-key", "a", "--api-key", "b"], "give one unlabelled key at most"),
        (["--api-key", "x=1", "--api-key", "x=2"], "the label 'x' is given twice"),
        (["--api-key", "=nolabel"], "LABEL=KEY"),
    ],
)
def test_cli_key_mistakes_are_one_line(tmp_path: Path, flags: list[str], message: str) -> None:
    import subprocess

    from tests.peers.peerkit import REPO, nbmcp_command

    target = tmp_path / "labels.py"
    target.write_text(SERVED)
    proc = subprocess.run(
        [*nbmcp_command(), "serve", str(target), "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbmcp: error: --api-key"), proc.stderr
    assert message in lines[0]
