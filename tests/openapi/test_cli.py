"""``nbmcp schema TARGET [--url] [--format] [--envelope] [--openapi] [--auth] [-o]``, run for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.timeout(120)


def nbmcp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbmcp.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    target = tmp_path / "samples.py"
    target.write_text(
        "from tests.openapi.sample_tools import build_server\n\nserver = build_server(tool_timeout=30)\n"
    )
    return target


def test_json_to_stdout_findings_to_stderr(samples: Path) -> None:
    proc = nbmcp("schema", str(samples), "--url", "https://tools.example.com/mcp")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "https://tools.example.com"}]
    assert len(doc["paths"]) == 14
    assert "info: POST /tools/stats.summary: tool name 'stats.summary'" in proc.stderr
    assert "14 operation(s), 0 warning(s); paste it into ChatGPT" in proc.stderr


def test_yaml_openapi_30_to_a_file(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "action.yaml"
    proc = nbmcp(
        "schema",
        str(samples),
        "--format",
        "yaml",
        "--openapi",
        "3.0",
        "-o",
        str(out),
        "--url",
        "https://x.example",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    doc = yaml.safe_load(out.read_text())
    validate(doc)
    assert doc["openapi"] == "3.0.3"
    assert f"written to {out}" in proc.stderr


def test_envelope_and_default_local_url(samples: Path) -> None:
    proc = nbmcp("schema", str(samples), "--envelope")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert list(doc["paths"]) == ["/mcp"] and doc["paths"]["/mcp"]["post"]["operationId"] == "callMCPTool"
    assert doc["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert "warning: servers[0].url: server URL http://127.0.0.1:8000 is not https" in proc.stderr


def test_too_many_tools_fails_with_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "crowded.py"
    target.write_text(
        "from nbmcp import MCPServer\n"
        "server = MCPServer('crowded', tool_timeout=30)\n"
        "for i in range(31):\n"
        "    def f(x: int) -> int:\n"
        "        '''Echo.'''\n"
        "        return x\n"
        "    server.add_tool(f, name=f't{i}')\n"
    )
    proc = nbmcp("schema", str(target), "--url", "https://x.example")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["openapi"] == "3.1.0"  # still written, to look at
    assert "error: paths: 31 operations; a ChatGPT Action takes at most 30" in proc.stderr
    assert "ChatGPT will not accept this schema" in proc.stderr
    assert nbmcp("schema", str(target), "--url", "https://x.example", "--envelope").returncode == 0


def test_auth_and_errors(tmp_path: Path) -> None:
    target = tmp_path / "keyed.py"
    target.write_text(
        "from nbmcp import MCPServer\n"
        "server = MCPServer('keyed', api_key='k-123', tool_timeout=30)\n"
        "@server.tool\n"
        "def ping() -> str:\n"
        "    '''Ping.'''\n"
        "    return 'pong'\n"
    )
    default = json.loads(nbmcp("schema", str(target), "--url", "https://x.example").stdout)
    assert default["components"]["securitySchemes"] == {
        "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    }
    bearer = json.loads(nbmcp("schema", str(target), "--url", "https://x.example", "--auth", "bearer").stdout)
    assert bearer["security"] == [{"BearerAuth": []}]
    assert "k-123" not in json.dumps(bearer)
    proc = nbmcp("schema", str(target), "--openapi", "2.0")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(
        "nbmcp: error: OpenAPI version"
    )
    proc = nbmcp("schema", str(tmp_path / "missing.py"))
    assert proc.returncode == 1 and "no such file" in proc.stderr
    proc = nbmcp("schema", str(target), "--url", "not a url")
    assert proc.returncode == 1 and "absolute http(s) URL" in proc.stderr


def test_checking_an_existing_schema_file(tmp_path: Path) -> None:
    seed = {
        "openapi": "3.1.0",
        "info": {"title": "hand-written", "version": "1"},
        "servers": [{"url": "http://localhost:8000"}],
        "paths": {"/mcp": {"post": {"operationId": "call MCP tool", "summary": "Call.", "responses": {}}}},
    }
    as_json = tmp_path / "openapi.json"
    as_json.write_text(json.dumps(seed))
    proc = nbmcp("schema", str(as_json))
    assert proc.returncode == 1
    assert "error: POST /mcp: operationId 'call MCP tool' is not allowed" in proc.stdout
    assert "warning: servers[0].url: server URL http://localhost:8000 is not https" in proc.stdout
    assert "1 error(s), 1 warning(s): ChatGPT will not accept it as it is" in proc.stdout
    seed["paths"]["/mcp"]["post"]["operationId"] = "callMCPTool"
    seed["servers"] = [{"url": "https://tools.example.com"}]
    as_yaml = tmp_path / "openapi.yaml"
    as_yaml.write_text(yaml.safe_dump(seed))
    proc = nbmcp("schema", str(as_yaml))
    assert proc.returncode == 0, proc.stdout
    assert "0 error(s), 0 warning(s): ChatGPT accepts it" in proc.stdout
    (tmp_path / "broken.json").write_text("{nope")
    proc = nbmcp("schema", str(tmp_path / "broken.json"))
    assert proc.returncode == 1 and "is not valid JSON" in proc.stderr
