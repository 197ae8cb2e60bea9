"""The shape of the package: layers, the public face, what ``import nbmcp`` costs, how CI runs Hypothesis."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

import nbmcp

ROOT = Path(__file__).resolve().parent.parent

# Optional extras (auth, tunnels, widgets, telemetry, rate limits): never paid for by a plain import
# or by ``%load_ext nbmcp``. Most are not installed here, so the probe below also records every
# attempt to import them, not only what ended up in sys.modules.
OPTIONAL = ("authlib", "pyngrok", "ipywidgets", "anywidget", "opentelemetry", "jwt", "joserfc", "limits")

# Run first in a fresh interpreter: a meta-path finder that notes every top-level import of
# WATCHED (found or not) and finds nothing itself; then REPORT prints the top-level names attempted
# and loaded.
PROBE = """
import sys
WATCHED = %r
attempts = []
class Recorder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in WATCHED:
            attempts.append(fullname.partition(".")[0])
        return None
sys.meta_path.insert(0, Recorder())
"""
REPORT = """
import json
loaded = sorted({m.partition(".")[0] for m in sys.modules} & set(WATCHED))
print(json.dumps({"attempted": sorted(set(attempts)), "loaded": loaded}))
"""

_CONTRACTS = re.compile(r"^Contracts: (?P<kept>\d+) kept, (?P<broken>\d+) broken\.$", re.MULTILINE)


def _run(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env)


def _probe(watched: tuple[str, ...], body: str) -> dict[str, list[str]]:
    """Which of ``watched`` a fresh interpreter running ``body`` tried to import, and loaded."""
    proc = _run(sys.executable, "-c", PROBE % (watched,) + body + REPORT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, list[str]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def contract_counts(stdout: str) -> tuple[int, int]:
    """``(kept, broken)`` from lint-imports' one ``Contracts: K kept, B broken.`` line; fails loudly."""
    found = list(_CONTRACTS.finditer(stdout))
    if len(found) != 1:
        raise AssertionError(
            f"expected one 'Contracts: K kept, B broken.' line, found {len(found)}:\n{stdout}"
        )
    return int(found[0]["kept"]), int(found[0]["broken"])


def test_layers_import_only_downwards() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    proc = _run(lint_imports, "--config", "pyproject.toml", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    kept, broken = contract_counts(proc.stdout)
    assert broken == 0, proc.stdout
    assert kept >= 1, proc.stdout


LINT_IMPORTS_TAIL = """
Analyzed 62 files, 186 dependencies.
------------------------------------

nbmcp layers: each imports only the ones below it KEPT

Contracts: 1 kept, 0 broken.
"""


def test_contract_counts_read_numbers_not_substrings() -> None:
    assert contract_counts(LINT_IMPORTS_TAIL) == (1, 0)
    ten = LINT_IMPORTS_TAIL.replace("1 kept, 0 broken", "1 kept, 10 broken")
    assert "0 broken" in ten  # what the old substring check accepted
    assert contract_counts(ten) == (1, 10)
    for stdout in ("", "Contracts: 0 kept, 0 broken", LINT_IMPORTS_TAIL * 2):
        with pytest.raises(AssertionError, match="expected one 'Contracts"):
            contract_counts(stdout)


def test_public_names_are_exactly_all() -> None:
    assert nbmcp.__all__ == sorted(nbmcp.__all__)
    for name in nbmcp.__all__:
        assert getattr(nbmcp, name) is not None, name
    assert set(nbmcp.__all__) == set(dir(nbmcp))


def test_import_nbmcp_loads_no_heavy_or_optional_module() -> None:
    heavy = ("IPython", "ipykernel", "fastapi", "uvicorn", "starlette", "pandas", "numpy", *OPTIONAL)
    found = _probe(heavy, "import nbmcp\n")
    assert found == {"attempted": [], "loaded": []}


def test_load_ext_nbmcp_imports_no_optional_module() -> None:
    body = (
        "import threading\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'nbmcp')\n"
        "assert 'mcp' in shell.magics_manager.magics['line'], 'the extension did not load'\n"
        "warming = [t for t in threading.enumerate() if t.name == 'nbmcp-prewarm']\n"
        "for thread in warming:\n"
        "    thread.join(60)\n"
        "    assert not thread.is_alive(), 'prewarm still running after 60 s'\n"
    )
    found = _probe(OPTIONAL, body)
    assert found == {"attempted": [], "loaded": []}


def test_the_probe_sees_attempts_at_missing_and_present_modules() -> None:
    missing = "nbmcp_no_such_module_x7"  # never installed, unlike an optional dependency may be
    body = (
        f"import contextlib\nwith contextlib.suppress(ImportError):\n    import {missing}\nimport colorsys\n"
    )
    assert _probe((missing, "colorsys"), body) == {
        "attempted": ["colorsys", missing],
        "loaded": ["colorsys"],
    }


def test_hypothesis_runs_derandomised_under_ci() -> None:
    if os.environ.get("CI"):
        assert settings.get_current_profile_name() == "ci"
        assert settings().derandomize
        assert settings().print_blob
    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("ci").print_blob
    # tests/conftest.py itself picks the profile, whatever Hypothesis chose before it (older ones
    # never choose "ci"): start from "default" and import it with CI set and unset.
    code = (
        "from hypothesis import settings\n"
        "settings.load_profile('default')\n"
        "import tests.conftest\n"
        "s = settings()\n"
        "print(settings.get_current_profile_name(), s.derandomize, s.print_blob)"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    under_ci = _run(sys.executable, "-c", code, env={**env, "CI": "true"})
    assert under_ci.returncode == 0, under_ci.stderr
    assert under_ci.stdout.split() == ["ci", "True", "True"]
    local = _run(sys.executable, "-c", code, env=env)
    assert local.returncode == 0, local.stderr
    assert local.stdout.split() == ["default", "False", "False"]


def test_building_a_server_loads_no_web_framework() -> None:
    code = (
        "import sys; from nbmcp import MCPServer\n"
        "s = MCPServer('x')\n"
        "@s.tool\n"
        "def f(a: int) -> int:\n"
        "    return a\n"
        "print(','.join(m for m in ('fastapi', 'uvicorn', 'IPython') if m in sys.modules))"
    )
    proc = _run(sys.executable, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_mypy_strict_is_clean() -> None:
    proc = _run(sys.executable, "-m", "mypy")
    assert proc.returncode == 0, proc.stdout[-5000:]


def test_ruff_is_clean() -> None:
    lint = _run(sys.executable, "-m", "ruff", "check", "nbmcp")
    assert lint.returncode == 0, lint.stdout[-5000:]
    fmt = _run(sys.executable, "-m", "ruff", "format", "--check", "nbmcp")
    assert fmt.returncode == 0, fmt.stdout[-5000:]
