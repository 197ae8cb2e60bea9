"""The conformance judge itself, on result folders shaped like the suite's (no Node needed).

The shapes are copied from real runs of both suites against the everything server: one folder
``server-<scenario>-<ISO time with ':' and '.' made '-'>`` per scenario holding ``checks.json``, a
list of ``{id, name, description, status, timestamp, specReferences, details[, errorMessage]}``;
conformance-next appends ``wire-schema-valid`` to every scenario in which it saw a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_conformance import (
    GENERIC_CHECKS,
    assert_all_pass,
    judge,
    summary_totals,
)
from tests.peers import tools

STAMP = "2026-12-01T21-02-31-292Z"


def _check(check_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": check_id,
        "name": check_id.title().replace("-", ""),
        "description": f"check {check_id}",
        "status": status,
        "timestamp": "2026-12-01T21:02:31.292Z",
        "specReferences": [{"id": "MCP-Ping", "url": "https://modelcontextprotocol.io/specification"}],
        "details": {},
        **extra,
    }


def _wire_schema(status: str = "SUCCESS") -> dict[str, Any]:
    return _check("wire-schema-valid", status, details={"messagesValidated": 5, "violations": []})


def _write(out: Path, scenario: str, checks: list[dict[str, Any]] | None, stamp: str = STAMP) -> Path:
    folder = out / f"server-{scenario}-{stamp}"
    folder.mkdir()
    if checks is not None:
        (folder / "checks.json").write_text(json.dumps(checks, indent=2))
    return folder


def test_a_real_passing_scenario_passes(tmp_path: Path) -> None:
    _write(tmp_path, "ping", [_check("ping", "SUCCESS", details={"result": {}}), _wire_schema()])
    _write(tmp_path, "server-initialize", [_check("server-initialize", "SUCCESS"), _wire_schema()])
    _write(
        tmp_path,
        "server-sse-multiple-streams",
        [
            _check("server-accepts-multiple-post-streams", "SUCCESS"),
            _check("server-sse-streams-functional", "INFO"),
        ],
    )
    judgement = judge(tmp_path)
    assert judgement.verdicts == {
        "ping": "passed",
        "server-initialize": "passed",
        "server-sse-multiple-streams": "passed",
    }
    assert judgement.totals()["SUCCESS"] == 5
    assert_all_pass(judgement, {"ping", "server-initialize", "server-sse-multiple-streams"})


def test_all_skipped_plus_the_generic_wire_schema_success_is_not_a_pass(tmp_path: Path) -> None:
    checks = [
        _check("json-schema-2020-12-a", "SKIPPED"),
        _check("json-schema-2020-12-b", "SKIPPED"),
        _wire_schema(),
    ]
    _write(tmp_path, "json-schema-2020-12", checks)
    judgement = judge(tmp_path)
    assert judgement.verdicts["json-schema-2020-12"] != "passed"
    assert judgement.verdicts["json-schema-2020-12"] == "nothing checked"
    with pytest.raises(AssertionError, match="nothing checked"):
        assert_all_pass(judgement, {"json-schema-2020-12"})


@pytest.mark.parametrize("generic", sorted(GENERIC_CHECKS))
def test_no_generic_check_counts_as_the_success(tmp_path: Path, generic: str) -> None:
    _write(tmp_path, "tools-list", [_check("tools-list", "SKIPPED"), _check(generic, "SUCCESS")])
    assert judge(tmp_path).verdicts == {"tools-list": "nothing checked"}


@pytest.mark.parametrize("generic", sorted(GENERIC_CHECKS))
def test_a_generic_check_still_fails_a_scenario(tmp_path: Path, generic: str) -> None:
    _write(tmp_path, "tools-list", [_check("tools-list", "SUCCESS"), _check(generic, "FAILURE")])
    _write(tmp_path, "ping", [_check("ping", "SUCCESS"), _check(generic, "WARNING")])
    assert judge(tmp_path).verdicts == {"tools-list": "failed", "ping": "warned"}


def test_generic_ids_are_the_ones_the_installed_next_suite_appends() -> None:
    tools.require_peers()  # fails with the fix when the suite is missing, as the peers tests do
    source = tools.CONFORMANCE_NEXT.read_text()
    for check_id in GENERIC_CHECKS:
        assert f"id:`{check_id}`" in source, check_id


def test_two_result_folders_for_one_scenario_fail(tmp_path: Path) -> None:
    passing = [_check("ping", "SUCCESS"), _wire_schema()]
    first = _write(tmp_path, "ping", passing)
    second = _write(tmp_path, "ping", passing, stamp="2026-12-01T21-02-35-001Z")
    _write(tmp_path, "tools-list", [_check("tools-list", "SUCCESS")])
    judgement = judge(tmp_path)
    assert judgement.verdicts["ping"] == f"duplicate result folders: {[first.name, second.name]}"
    assert judgement.verdicts["tools-list"] == "passed"
    with pytest.raises(AssertionError, match="duplicate result folders"):
        assert_all_pass(judgement, {"ping", "tools-list"})


def test_a_folder_without_checks_json_fails(tmp_path: Path) -> None:
    # the suite makes the folder first; a scenario it skips or that throws leaves it empty
    _write(tmp_path, "ping", None)
    assert judge(tmp_path).verdicts == {"ping": "no checks.json"}


def test_failures_warnings_and_odd_statuses_fail(tmp_path: Path) -> None:
    _write(tmp_path, "a", [_check("a", "SUCCESS"), _check("a2", "FAILURE", errorMessage="boom")])
    _write(tmp_path, "b", [_check("b", "SUCCESS"), _check("b2", "WARNING")])
    _write(tmp_path, "c", [_check("c", "PASSED")])
    _write(tmp_path, "d", [])
    (_write(tmp_path, "e", None) / "checks.json").write_text('{"id": "e", "status": "SUCCESS"}')
    assert judge(tmp_path).verdicts == {
        "a": "failed",
        "b": "warned",
        "c": "unknown status ['PASSED']",
        "d": "nothing checked",
        "e": "malformed checks.json",
    }
    with pytest.raises(AssertionError, match="a2: FAILURE boom"):
        assert_all_pass(judge(tmp_path), set())


def test_a_missing_scenario_fails(tmp_path: Path) -> None:
    _write(tmp_path, "ping", [_check("ping", "SUCCESS")])
    with pytest.raises(AssertionError, match="no results: \\['tools-list'\\]"):
        assert_all_pass(judge(tmp_path), {"ping", "tools-list"})


@pytest.mark.parametrize("name", ["server-ping", "ping-2026-12-01T21-02-31-292Z", "notes.txt"])
def test_anything_else_in_the_output_dir_is_an_error(tmp_path: Path, name: str) -> None:
    (tmp_path / name).mkdir()
    with pytest.raises(ValueError, match="not a scenario result folder"):
        judge(tmp_path)


STABLE_TAIL = """
=== SUMMARY ===
✓ server-initialize: 1 passed, 0 failed
✓ dns-rebinding-protection: 2 passed, 0 failed

Total: 46 passed, 0 failed
"""
NEXT_TAIL = """
=== SUMMARY ===
✓ server-initialize: 3 passed, 0 failed
✓ server-sse-polling: 3 passed, 0 failed

Total: 83 passed, 0 failed

Not scored for 2025-11-25: 3 scenario(s) run, 0 failing. These do not affect conformance.
  ✓ server-session-lifecycle (added-after-release)
"""


def test_summary_totals_read_the_real_summaries() -> None:
    assert summary_totals(STABLE_TAIL) == (46, 0)
    assert summary_totals(NEXT_TAIL) == (83, 0)


def test_summary_totals_see_ten_failed_as_ten() -> None:
    tail = STABLE_TAIL.replace("Total: 46 passed, 0 failed", "Total: 36 passed, 10 failed")
    assert "0 failed" in tail.splitlines()[-1]  # what the old substring check accepted
    assert summary_totals(tail) == (36, 10)


@pytest.mark.parametrize("stdout", ["", "Passed: 1/1, 0 failed, 0 warnings\n", STABLE_TAIL + STABLE_TAIL])
def test_summary_totals_fail_loudly_without_exactly_one_total(stdout: str) -> None:
    with pytest.raises(AssertionError, match="expected one 'Total: N passed, M failed' line"):
        summary_totals(stdout)


def test_require_peers_needs_the_next_suite_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NODE", "CONFORMANCE", "CONFORMANCE_NEXT"):
        path = tmp_path / name
        path.write_text("")
        monkeypatch.setattr(tools, name, path)
    tools.require_peers()
    monkeypatch.setattr(tools, "CONFORMANCE_NEXT", tmp_path / "conformance-next" / "dist" / "index.js")
    with pytest.raises(RuntimeError, match="conformance-next"):
        tools.require_peers()
