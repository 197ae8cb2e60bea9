"""Shared tunnel test kit: the doubles as executables, the test CA, public names for this machine.

Any test (or a kernel it starts) can publish through the doubles::

    from tests.tunnel.kit import tunnel_kit  # noqa: F401  (the session fixture)

    def test_x(tunnel_kit, monkeypatch):
        for name, value in tunnel_kit.ngrok_env().items():   # or cloudflared_env()
            monkeypatch.setenv(name, value)
        ...  # open_tunnel / server.publish(); trust tunnel_kit.ca_file (SSL_CERT_FILE is set)

For a kernel, pass the same variables in its environment. To find a double's process (to kill
it with :func:`kill` and see the dead-tunnel path), set ``NBMCP_FAKE_RECORD_DIR`` to a folder:
each double writes ``<program>-<pid>.json`` there (:func:`records`). The doubles themselves are
described in ``tests/tunnel/doubles/fake_ngrok.py`` and ``fake_cloudflared.py``.

:func:`tunnel_kit` makes sure ``ngrok.nbmcp.test``, ``cloudflared.nbmcp.test`` and
``public.nbmcp.test`` (``.test`` is reserved, RFC 2606) resolve to 127.0.0.1 for every process:
as root it adds one marked line to ``/etc/hosts`` and removes exactly that line at the end;
otherwise the session fails saying which line to add. The doubles' TLS certificate (from
``trustme``) covers those names; ``ca_file`` is its CA.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import ssl
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbmcp import MCPServer
from nbmcp.errors import TunnelError
from nbmcp.tunnel import Tunnel, open_tunnel

PUBLIC_NAMES = ("ngrok.nbmcp.test", "cloudflared.nbmcp.test", "public.nbmcp.test")
HOSTS = Path("/etc/hosts")
MARK = "# nbmcp-tests"
DOUBLES = Path(__file__).resolve().parent / "doubles"

LAUNCHER = """#!{python}
import os, signal, sys
os.environ.setdefault("NBMCP_TEST_TLS_DIR", {tls!r})
sys.path.insert(0, {doubles!r})
from {module} import main
# Ctrl-C (a kernel's interrupt reaches its whole process group) ends the agent quietly, as the real ones
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
sys.exit(main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class TunnelKit:
    """Paths and settings for publishing through the doubles."""

    root: Path
    ca_file: Path
    tls_dir: Path
    bin_dir: Path
    token: str

    @property
    def ngrok_path(self) -> Path:
        return self.bin_dir / "ngrok"

    @property
    def cloudflared_path(self) -> Path:
        return self.bin_dir / "cloudflared"

    def ngrok_env(self) -> dict[str, str]:
        """Environment for ngrok through its double: the token, the agent, the CA."""
        return {
            "NGROK_AUTHTOKEN": self.token,
            "NBMCP_NGROK_PATH": str(self.ngrok_path),
            "SSL_CERT_FILE": str(self.ca_file),
        }

    def cloudflared_env(self) -> dict[str, str]:
        """Environment for cloudflared through its double: the binary, the CA."""
        return {"NBMCP_CLOUDFLARED_PATH": str(self.cloudflared_path), "SSL_CERT_FILE": str(self.ca_file)}

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the doubles' certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def records(folder: Path, program: str) -> list[dict[str, Any]]:
    """The record files the doubles wrote in ``folder`` (``NBMCP_FAKE_RECORD_DIR``), oldest first."""
    found = []
    for path in sorted(folder.glob(f"{program}-*.json"), key=lambda p: p.stat().st_mtime_ns):
        with contextlib.suppress(ValueError):  # being rewritten: os.replace makes that rare
            found.append(json.loads(path.read_text()))
    return found


def only_record(folder: Path, program: str) -> dict[str, object]:
    """The one record ``program``'s double wrote in ``folder``; fails if there is not exactly one."""
    found = records(folder, program)
    assert len(found) == 1, found
    return found[0]


def tunnel_fixture(provider: str) -> Any:
    """A ``tunnel`` fixture: ``provider``'s tunnel (through its double) to the ``server`` fixture.

    In a test module: ``tunnel = tunnel_fixture("ngrok")``. It asks for the ``<provider>_env``
    fixture (tests/tunnel/conftest.py) first, and closes the tunnel at the end.
    """

    @pytest.fixture(name="tunnel")
    def _tunnel(request: pytest.FixtureRequest, server: MCPServer) -> Iterator[Tunnel]:
        request.getfixturevalue(f"{provider}_env")
        assert server.port is not None
        opened = open_tunnel(server.port, provider)
        yield opened
        opened.close()

    return _tunnel


def assert_a_silent_agent_is_given_up_on(
    server: MCPServer, provider: str, monkeypatch: pytest.MonkeyPatch, match: str
) -> None:
    """A double that never says its URL (``NBMCP_FAKE_MODE=hang``): a ``TunnelError`` after 2 s
    matching ``match``, and no agent left behind."""
    monkeypatch.setenv("NBMCP_FAKE_MODE", "hang")
    assert server.port is not None
    with pytest.raises(TunnelError, match=match):
        open_tunnel(server.port, provider, timeout=2)
    assert tunnel_children() == []


def kill_the_agent(tunnel: Tunnel, folder: Path, program: str) -> str | None:
    """SIGKILL the tunnel's double (its one record in ``folder``), wait until the tunnel sees it
    down, and return ``tunnel.problem()``."""
    kill(int(str(only_record(folder, program)["pid"])))
    wait_for(lambda: not tunnel.alive())
    return tunnel.problem()


def close_twice(tunnel: Tunnel) -> str | None:
    """Close ``tunnel`` twice (the second a no-op), check it is down and left no agent behind,
    and return ``tunnel.problem()``."""
    tunnel.close()
    tunnel.close()
    assert not tunnel.alive()
    assert tunnel_children() == []
    return tunnel.problem()


def assert_the_server_outlives(tunnel: Tunnel, server: MCPServer) -> None:
    """The local server still answers /health; closing the tunnel then leaves no agent behind."""
    with httpx.Client() as client:  # the local server keeps serving
        assert client.get(f"http://127.0.0.1:{server.port}/health").status_code == 200
    tunnel.close()
    assert tunnel_children() == []


def kill(pid: int) -> None:
    """Kill a double on the spot (SIGKILL), as a crash or an OOM kill would."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def tunnel_children() -> list[Any]:
    """This process's children that are tunnel agents or doubles (zombies included)."""
    import psutil

    found: list[Any] = []
    for child in psutil.Process().children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.ZombieProcess:
            found.append(child)
            continue
        except psutil.NoSuchProcess:
            continue
        if "ngrok" in line or "cloudflared" in line:
            found.append(child)
    return found


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Return once ``condition()`` holds; fail after ``timeout`` s (a bounded wait, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:g} s: {condition}")
        time.sleep(0.02)


def build_kit(root: Path) -> TunnelKit:
    """Write the CA, the edge certificate and the two launchers under ``root``."""
    import trustme

    tls_dir = root / "tls"
    bin_dir = root / "bin"
    tls_dir.mkdir(parents=True)
    bin_dir.mkdir()
    ca = trustme.CA()
    leaf = ca.issue_cert(*PUBLIC_NAMES, "127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(tls_dir / "ca.pem"))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tls_dir / "edge.pem"))
    for name, module in (("ngrok", "fake_ngrok"), ("cloudflared", "fake_cloudflared")):
        path = bin_dir / name
        text = LAUNCHER.format(python=sys.executable, tls=str(tls_dir), doubles=str(DOUBLES), module=module)
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    token = f"nbmcp-test-{secrets.token_hex(12)}"
    return TunnelKit(root=root, ca_file=tls_dir / "ca.pem", tls_dir=tls_dir, bin_dir=bin_dir, token=token)


# -- public names ---------------------------------------------------------------------------------


def _resolves_here(name: str) -> bool:
    try:
        found = socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    return bool(found) and all(info[4][0] in ("127.0.0.1", "::1") for info in found)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _hosts_lines(hosts: Path) -> list[str]:
    return hosts.read_text().splitlines()


def _edit_hosts(hosts: Path, add: str | None = None, remove: str | None = None) -> None:
    """Add or remove one line in place (``/etc/hosts`` may be a bind mount: never replaced)."""
    with open(hosts, "r+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        lines = file.read().splitlines()
        kept = []
        for line in lines:
            if line == remove:
                continue
            if MARK in line and "pid=" in line:  # a marked line of a session that died: drop it
                pid = line.rsplit("pid=", 1)[1].strip()
                if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    continue
            kept.append(line)
        if add is not None:
            kept.append(add)
        file.seek(0)
        file.write("\n".join(kept) + "\n")
        file.truncate()


@contextlib.contextmanager
def public_names(names: tuple[str, ...] = PUBLIC_NAMES, hosts: Path = HOSTS) -> Iterator[None]:
    """Make ``names`` resolve to 127.0.0.1 for the duration (see the module docstring)."""
    lines = _hosts_lines(hosts) if hosts.exists() else []
    marked = [line for line in lines if MARK in line]
    if all(_resolves_here(name) for name in names) and not marked:
        yield  # set up outside the tests (a hosts line, a resolver): leave it alone
        return
    if not os.access(hosts, os.W_OK):
        pytest.fail(
            f"the tunnel tests need {', '.join(names)} to resolve to this machine: add the line "
            f"'127.0.0.1 {' '.join(names)}' to {hosts} (or run the tests as root, which adds it)"
        )
    ours = f"127.0.0.1 {' '.join(names)} {MARK} pid={os.getpid()}"
    _edit_hosts(hosts, add=ours)
    try:
        missing = [name for name in names if not _resolves_here(name)]
        if missing:
            pytest.fail(f"{', '.join(missing)} still do not resolve after adding them to {hosts}")
        yield
    finally:
        _edit_hosts(hosts, remove=ours)


@pytest.fixture(scope="session")
def tunnel_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TunnelKit]:
    """The doubles, the CA and the public names, for the whole session."""
    with public_names():
        yield build_kit(tmp_path_factory.mktemp("tunnelkit"))
