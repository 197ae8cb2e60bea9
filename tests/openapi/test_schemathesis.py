"""schemathesis runs the generated schema against the live server: zero 5xx, every response as documented.

The real CLI (``python -m schemathesis.cli run``) loads ``/openapi.json`` over HTTP from a
server on a free port and fuzzes every operation (coverage and fuzzing phases, positive and
negative data), checking each response: not a server error, a documented status code, the
documented content type and headers, and a body that matches the documented schema. Four
variants: OpenAPI 3.1.0 and 3.0.3, per-tool and envelope, one of them behind an API key.
Bounded: at most 50 examples per operation, a fixed seed, a timeout per run against a hang
(how long a run takes is measured in bench/, not asserted here).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.openapi.sample_tools import build_server

pytestmark = pytest.mark.timeout(240)

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
KEY = "fuzz-key-8Rt3"


@pytest.mark.parametrize(
    ("query", "keyed"),
    [
        ("openapi=3.1.0", False),
        ("openapi=3.0", True),
        ("openapi=3.1.0&envelope=1", False),
        ("openapi=3.0&envelope=1", False),
    ],
    ids=["3.1", "3.0-api-key", "envelope-3.1", "envelope-3.0"],
)
def test_schemathesis_finds_nothing(
    serve: Callable[..., str], tmp_path: Path, query: str, keyed: bool
) -> None:
    server = build_server(api_key=KEY if keyed else None, tool_timeout=10)
    base = serve(server).removesuffix("/mcp")
    proc = run_schemathesis(f"{base}/openapi.json?{query}", tmp_path, KEY if keyed else None)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", out)
    assert counts is not None, out[-3000:]
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated == passed and generated >= (100 if "envelope" in query else 500), out[-3000:]
    operations = 1 if "envelope" in query else len(server.tools)
    assert f"{operations} selected / {operations} total" in out
    # every call went through the registry, like an MCP client's (the monitor saw them)
    assert server.monitor.total_calls > (50 if "envelope" in query else 300)


def test_schemathesis_would_catch_a_server_error(
    serve: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: answer tool errors with 500 and the same run must fail."""
    import nbmcp.http.rest

    monkeypatch.setattr(nbmcp.http.rest, "TOOL_ERROR_STATUS", 500)
    base = serve(build_server(tool_timeout=10)).removesuffix("/mcp")
    proc = run_schemathesis(f"{base}/openapi.json", tmp_path, None)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Server error" in out and "POST /tools/refuse" in out


def run_schemathesis(location: str, cwd: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        location,
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--max-examples",
        "50",
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--no-color",
    ]
    if key:
        cmd += ["--header", f"X-API-Key: {key}"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
