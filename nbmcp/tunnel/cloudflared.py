"""cloudflared quick tunnels: a random ``https://*.trycloudflare.com`` URL, no account needed.

``cloudflared tunnel --url http://127.0.0.1:PORT`` asks Cloudflare for a quick tunnel and
prints its URL in a box on its log output, then ``Registered tunnel connection`` once the edge
can reach it; :func:`open_cloudflared` waits (bounded) for both. Quick tunnels hold a GET event
stream until it ends (cloudflared issues 1449 and 1496), hence ``holds_get_streams``. A fixed
domain needs a named tunnel, which needs a Cloudflare account: not offered here.

The binary is ``NBMCP_CLOUDFLARED_PATH`` when set, else ``cloudflared`` on ``PATH``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time

from nbmcp.errors import TunnelError, TunnelUnavailableError
from nbmcp.tunnel.base import redact, upstream_url
from nbmcp.tunnel.process import LineReader, ProcessTunnel

__all__ = ["HOW", "INSTALL_URL", "CloudflaredTunnel", "find_binary", "open_cloudflared"]

logger = logging.getLogger("nbmcp.tunnel")

PATH_ENV = "NBMCP_CLOUDFLARED_PATH"
INSTALL_URL = "https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/"
HOW = (
    f"cloudflared (no account needed): install it (`brew install cloudflared`, "
    f"`apt install cloudflared`, or {INSTALL_URL}) or set {PATH_ENV} to it"
)
"""One line: how to make cloudflared usable here."""
_NO_DOMAIN = (
    "cloudflared quick tunnels get a random trycloudflare.com name; a fixed domain needs a named "
    "tunnel and a Cloudflare account, which nbmcp does not set up: publish without a domain, "
    "or use ngrok with a reserved domain"
)
_URL_IN_BOX = re.compile(r"\|\s+(https://[^\s|]+)\s+\|")
_LEVEL = re.compile(r"^\S+\s+(ERR|FTL)\s+(.*)$")
_FAILED = re.compile(r"^(failed|error)\b", re.IGNORECASE)
_REGISTERED = "Registered tunnel connection"
_CONFIG_DIRS = (
    "~/.cloudflared",
    "~/.cloudflare-warp",
    "~/cloudflare-warp",
    "/etc/cloudflared",
    "/usr/local/etc/cloudflared",
)
"""Where cloudflared looks for a default config file."""


def find_binary() -> str | None:
    """The cloudflared binary to run, or ``None`` when there is none here."""
    given = os.environ.get(PATH_ENV, "").strip()
    if given:
        return given if os.path.isfile(given) and os.access(given, os.X_OK) else None
    return shutil.which("cloudflared")


def _binary() -> str:
    found = find_binary()
    if found is not None:
        return found
    given = os.environ.get(PATH_ENV, "").strip()
    if given:
        raise TunnelUnavailableError(f"{PATH_ENV}={given} is not an executable file: point it at cloudflared")
    raise TunnelUnavailableError(f"cloudflared is not installed: {HOW.split(': ', 1)[1]}")


def _error(line: str) -> str | None:
    """The error text of a cloudflared log line (``ERR``/``FTL`` level, or a ``failed ...`` line)."""
    level = _LEVEL.match(line)
    if level is not None:
        return level.group(2)
    return line if _FAILED.match(line) else None


def _config_hint() -> str:
    """A note when a default config file may be what stops the quick tunnel, else ``""``."""
    for folder in _CONFIG_DIRS:
        for name in ("config.yml", "config.yaml"):
            path = os.path.join(os.path.expanduser(folder), name)
            if os.path.isfile(path):
                return f" (quick tunnels do not run while {path} exists: move it aside)"
    return ""


class _QuickTunnelLog:
    """Follows cloudflared's log output: the URL from its box, then the first registration."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.registered = False
        self.changed = threading.Event()

    def feed(self, line: str) -> None:
        logger.debug("cloudflared: %s", redact(line))
        if self.url is None:
            found = _URL_IN_BOX.search(line)
            if found is not None:
                self.url = found.group(1).rstrip("/")
                self.changed.set()
        elif _REGISTERED in line and not self.registered:
            self.registered = True
            self.changed.set()

    @property
    def ready(self) -> bool:
        return self.url is not None and self.registered


class CloudflaredTunnel(ProcessTunnel):
    """A cloudflared quick tunnel served by a cloudflared process."""

    provider = "cloudflared"
    forwarded_header = "cf-connecting-ip"
    holds_get_streams = True


def open_cloudflared(port: int, *, domain: str | None, host: str, timeout: float) -> CloudflaredTunnel:
    """Open a quick tunnel to ``host:port``; ``domain`` is refused (named tunnels need an account)."""
    if domain:
        raise TunnelUnavailableError(_NO_DOMAIN)
    command = [
        _binary(),
        "tunnel",
        "--no-autoupdate",
        "--metrics",
        "127.0.0.1:0",  # its metrics server: loopback only, a free port
        "--url",
        upstream_url(host, port),
    ]
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # cloudflared logs on stderr: one pipe for both
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        raise TunnelUnavailableError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    assert proc.stdout is not None  # stdout=PIPE
    log = _QuickTunnelLog()
    reader = LineReader(
        proc.stdout, name="nbmcp-cloudflared-output", error=_error, on_line=log.feed, on_end=log.changed.set
    )
    tunnel = CloudflaredTunnel(public_url="https://pending", proc=proc, reader=reader, agent="cloudflared")
    try:
        _wait_ready(log, reader, proc, timeout)
    except BaseException:
        tunnel.close()
        raise
    assert log.url is not None  # _wait_ready returned: URL seen and registered
    tunnel.public_url = log.url
    return tunnel


def _wait_ready(
    log: _QuickTunnelLog, reader: LineReader, proc: subprocess.Popen[str], timeout: float
) -> None:
    """Wait up to ``timeout`` s for the URL and a registered connection; else one-line error."""
    deadline = time.monotonic() + timeout
    while not log.ready and not reader.ended.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        log.changed.wait(left)  # set by each step of the log and when the output ends
        log.changed.clear()
    if log.ready:
        return
    why = (f": {reader.last_error}" if reader.last_error else "") + _config_hint()
    if reader.ended.is_set():
        try:
            code = proc.wait(5.0)
        except subprocess.TimeoutExpired:
            raise TunnelError(f"cloudflared closed its output before the tunnel was up{why}") from None
        raise TunnelError(f"cloudflared exited (code {code}) before the tunnel was up{why}")
    step = "no tunnel URL" if log.url is None else "no connection registered"
    raise TunnelError(f"cloudflared gave {step} within {timeout:g} s{why}")
