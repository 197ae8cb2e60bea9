"""The shape of the package: layers, the public face, and what ``import nbmcp`` costs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbmcp

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_layers_import_only_downwards() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    proc = _run(lint_imports, "--config", "pyproject.toml", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_public_names_are_exactly_all() -> None:
    assert nbmcp.__all__ == sorted(nbmcp.__all__)
    for name in nbmcp.__all__:
        assert getattr(nbmcp, name) is not None, name
    assert set(nbmcp.__all__) == set(dir(nbmcp))


def test_import_nbmcp_loads_no_heavy_or_optional_module() -> None:
    heavy = (
        "IPython",
        "ipywidgets",
        "ipykernel",
        "fastapi",
        "uvicorn",
        "starlette",
        "pyngrok",
        "pandas",
        "numpy",
    )
    code = "import sys, nbmcp; print(','.join(m for m in %r if m in sys.modules))" % (heavy,)
    proc = _run(sys.executable, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


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
