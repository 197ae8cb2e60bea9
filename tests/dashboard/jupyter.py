"""A real Jupyter server for a browser test: JupyterLab 4 or Notebook 7, on 127.0.0.1, offline.

:func:`jupyter_server` starts ``python -m jupyterlab`` (or ``python -m notebook``) from this
venv on a free port (``--ServerApp.port=0``; the port is read back from the server's runtime
file), with a token, every Jupyter directory in a temporary one (no user settings, kernels or
extensions leak in; the venv's own labextensions and ``python3`` kernelspec are found under
``sys.prefix``), the news and update checks off, and waits (bounded) for ``/api/status``.
The kernel it starts is this venv's ipykernel (the kernelspec's ``python`` is the server's
own interpreter). :func:`write_notebook` writes a notebook of code cells into its root.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat

STARTUP = 90.0
"""Seconds the server may take to answer ``/api/status``."""

_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


@dataclass
class JupyterServer:
    """A running Jupyter server: its base URL, token, root directory and log file."""

    base: str
    token: str
    root: Path
    log: Path
    app: str

    def open_session(self, notebook: str) -> str:
        """Start the notebook's ``python3`` kernel through the REST API (as reopening a running
        notebook finds it): the page then attaches to it, with no kernel dialog and no restart
        racing the first cells. Returns the kernel id."""
        answer = httpx.post(
            f"{self.base}/api/sessions",
            headers={"Authorization": f"token {self.token}"},
            json={"path": notebook, "type": "notebook", "name": notebook, "kernel": {"name": "python3"}},
            timeout=60,
        )
        answer.raise_for_status()
        return str(answer.json()["kernel"]["id"])

    def url(self, notebook: str) -> str:
        """Where the app opens ``notebook`` (``/lab/tree/...`` or ``/notebooks/...``), with the token."""
        where = "lab/tree" if self.app == "jupyterlab" else "notebooks"
        return f"{self.base}/{where}/{notebook}?token={self.token}"


def jupyter_env(home: Path) -> dict[str, str]:
    """The environment of the server (and so of its kernels): every Jupyter directory under ``home``."""
    env = dict(os.environ)
    for name in ("NBMCP_API_KEY", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "PYTHONSTARTUP"):
        env.pop(name, None)
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
        "XDG_CONFIG_HOME": "xdg",
    }
    for name, sub in dirs.items():
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["NBMCP_OAUTH_STORE"] = "memory"
    for plugin, values in _SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write a notebook of ``cells`` (code) for the ``python3`` kernel; returns its file name."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        },
    )
    nbformat.write(nb, root / name)
    return name


def _port_of(runtime: Path, pid: int, process: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + STARTUP
    info = runtime / f"jpserver-{pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the Jupyter server exited ({process.returncode}):\n{log.read_text()[-3000:]}"
            )
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
            return int(json.loads(info.read_text())["port"])
        time.sleep(0.1)
    raise AssertionError(
        f"the Jupyter server wrote no {info.name} within {STARTUP} s:\n{log.read_text()[-3000:]}"
    )


def _wait_ready(base: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(f"{base}/api/status", headers={"Authorization": f"token {token}"}, timeout=5)
            if answer.status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{base}/api/status did not answer within {STARTUP} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def jupyter_server(home: Path, app: str = "jupyterlab") -> Iterator[JupyterServer]:
    """Run ``app`` (``jupyterlab`` or ``notebook``) until the block ends; then stop it and its kernels."""
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    env = jupyter_env(home)
    token = secrets.token_hex(16)
    log = home / f"{app}.log"
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        port = _port_of(Path(env["JUPYTER_RUNTIME_DIR"]), process.pid, process, log)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, token, log)
        yield JupyterServer(base, token, root, log, app)
    finally:
        process.send_signal(signal.SIGTERM)  # shuts its kernels down without asking
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def labextensions() -> str:
    """What ``jupyter labextension list`` says (this venv's)."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyterlab.labextensions", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        check=False,
    )
    return done.stdout + done.stderr
