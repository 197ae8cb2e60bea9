"""The official MCP conformance suite judges ``nbmcp serve`` of the everything server.

Both the stable suite (0.1.16, ``--suite all``) and the next one (0.2.0-alpha.12,
``--requirements 2025-11-25``) run. The suite can print a scenario as passed when every
check was skipped, and exits 0 with failures in some modes, so we read its checks.json:
a scenario counts only if it wrote results, has no FAILURE or WARNING, and at least one
SUCCESS.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.tools import CONFORMANCE, CONFORMANCE_NEXT, NODE, nbmcp_serve, node_env, require_peers

pytestmark = pytest.mark.peers

FIXTURE = "tests/conformance/everything_server.py"

STABLE_SCENARIOS = {
    "server-initialize", "logging-set-level", "ping", "completion-complete", "tools-list",
    "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource",
    "tools-call-mixed-content", "tools-call-with-logging", "tools-call-error", "tools-call-with-progress",
    "tools-call-sampling", "tools-call-elicitation", "json-schema-2020-12", "elicitation-sep1034-defaults",
    "server-sse-polling", "server-sse-multiple-streams", "elicitation-sep1330-enums", "resources-list",
    "resources-read-text", "resources-read-binary", "resources-templates-read", "resources-subscribe",
    "resources-unsubscribe", "prompts-list", "prompts-get-simple", "prompts-get-with-args",
    "prompts-get-embedded-resource", "prompts-get-with-image", "dns-rebinding-protection",
}  # fmt: skip
NEXT_SCENARIOS = STABLE_SCENARIOS | {"server-session-lifecycle"}


@pytest.fixture(scope="module")
def everything_url() -> Iterator[str]:
    require_peers()
    with nbmcp_serve(FIXTURE) as url:
        yield url


def _run(script: Path, url: str, out: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(NODE), str(script), "server", "--url", url, *selection, "-o", str(out)]
    return subprocess.run(cmd, env=node_env(), capture_output=True, text=True, timeout=600, check=False)


def _judge(out: Path) -> tuple[dict[str, str], dict[str, list[dict[str, object]]]]:
    """Verdict per scenario from the suite's checks.json files."""
    verdicts: dict[str, str] = {}
    checks_by: dict[str, list[dict[str, object]]] = {}
    for path in sorted(out.glob("server-*/checks.json")):
        found = re.match(r"^server-(.+)-\d{4}-\d{2}-\d{2}T", path.parent.name)
        assert found, path
        name = found.group(1)
        checks = json.loads(path.read_text())
        checks_by[name] = checks
        statuses = [c["status"] for c in checks]
        if "FAILURE" in statuses:
            verdicts[name] = "failed"
        elif "WARNING" in statuses:
            verdicts[name] = "warned"
        elif "SUCCESS" not in statuses:
            verdicts[name] = "nothing checked"
        else:
            verdicts[name] = "passed"
    return verdicts, checks_by


def _assert_all_pass(
    verdicts: dict[str, str], checks: dict[str, list[dict[str, object]]], expected: set[str]
) -> None:
    missing = expected - set(verdicts)
    assert not missing, f"scenarios with no results: {sorted(missing)}"
    bad = {
        name: [f"{c['id']}: {c['status']} {c.get('errorMessage', '')}" for c in checks[name]
               if c["status"] in ("FAILURE", "WARNING")] or [verdict]
        for name, verdict in verdicts.items() if verdict != "passed"
    }  # fmt: skip
    assert not bad, json.dumps(bad, indent=1)


def test_stable_suite_all(everything_url: str, tmp_path: Path) -> None:
    proc = _run(CONFORMANCE, everything_url, tmp_path, "--suite", "all")
    verdicts, checks = _judge(tmp_path)
    _assert_all_pass(verdicts, checks, STABLE_SCENARIOS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 failed" in proc.stdout.splitlines()[-1]


def test_next_suite_requirements_2025_11_25(everything_url: str, tmp_path: Path) -> None:
    proc = _run(CONFORMANCE_NEXT, everything_url, tmp_path, "--requirements", "2025-11-25")
    verdicts, checks = _judge(tmp_path)
    _assert_all_pass(verdicts, checks, NEXT_SCENARIOS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
