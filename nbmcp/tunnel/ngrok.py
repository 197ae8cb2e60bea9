"""ngrok through pyngrok (9.1): one private agent per tunnel, its token only in a private file.

Each tunnel's agent runs from a link of its own to the binary (:mod:`~nbmcp.tunnel.ngrok_setup`
writes it with the config file), so pyngrok, which keeps one agent per binary path, starts a
separate agent for each tunnel, and closing one never touches another. The token never goes on
the agent's command line (``ps`` shows that to every user), into a message or into a log
line: pyngrok logs the lines the agent prints, so its loggers get
:func:`~nbmcp.tunnel.base.guard_loggers`' filter. pyngrok is imported only when a tunnel opens.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import secrets
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from nbmcp.errors import TunnelError, TunnelUnavailableError
from nbmcp.tunnel.base import guard_loggers, one_line, redact, remember_secret, upstream_url
from nbmcp.tunnel.ngrok_setup import (
    AUTHTOKEN_URL,
    HOW,
    NO_TOKEN,
    agent_path,
    find_token,
    private_link,
    write_config,
)
from nbmcp.tunnel.process import LineReader, ProcessTunnel, stop_process

if TYPE_CHECKING:
    from pyngrok.conf import PyngrokConfig
    from pyngrok.process import NgrokProcess

__all__ = ["AUTHTOKEN_URL", "HOW", "NgrokTunnel", "find_token", "open_ngrok"]

logger = logging.getLogger("nbmcp.tunnel")

_PYNGROK_LOGGERS = (
    "pyngrok",
    "pyngrok.process",
    "pyngrok.process.ngrok",
    "pyngrok.ngrok",
    "pyngrok.installer",
)


def _registered(ngrok_path: str) -> NgrokProcess | None:
    """pyngrok's record of the agent started for ``ngrok_path``, read without its lock.

    pyngrok 9.1 holds its lock for the whole start-up, so a stuck start-up can only be ended
    by reaching the process this way.
    """
    from pyngrok import process

    running: dict[str, NgrokProcess] = getattr(process, "_current_processes", {})
    return running.get(ngrok_path)


def _forget(config: PyngrokConfig, public_url: str | None) -> None:
    """Drop pyngrok's module-level records of a finished agent (process, tunnel, config cache)."""
    from pyngrok import installer, ngrok, process

    process.kill_process(config.ngrok_path)  # the agent has exited: this only forgets it
    if public_url is not None:
        getattr(ngrok, "_current_tunnels", {}).pop(public_url, None)
    if config.config_path is not None:
        getattr(installer, "_config_cache", {}).pop(config.config_path, None)


def _agent_error(line: str) -> str | None:
    """The error text of an agent log line at level error or critical."""
    from pyngrok.log import NgrokLog

    log = NgrokLog(line)
    if log.lvl in ("ERROR", "CRITICAL"):
        return log.err or log.msg or line
    return None


def _why(exc: BaseException) -> str:
    """pyngrok's failure as one line in the agent's own words where it gave any."""
    from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError

    if isinstance(exc, PyngrokNgrokHTTPError):
        try:
            body = json.loads(exc.body)
        except (TypeError, ValueError):
            body = None
        if isinstance(body, dict):
            details = body.get("details")
            err = details.get("err") if isinstance(details, dict) else None
            return (
                f"ngrok refused the tunnel (HTTP {exc.status_code}): {one_line(str(err or body.get('msg')))}"
            )
        return f"ngrok refused the tunnel (HTTP {exc.status_code})"
    if isinstance(exc, PyngrokNgrokError) and exc.ngrok_error:
        return f"the ngrok agent did not start: {one_line(exc.ngrok_error)}"
    return f"the ngrok agent did not start: {one_line(str(exc) or type(exc).__name__)}"


def _connect(config: PyngrokConfig, options: dict[str, Any], timeout: float) -> str:
    """Start the agent and its endpoint through pyngrok within ``timeout`` s; the public URL."""
    from pyngrok import ngrok

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["url"] = ngrok.connect(pyngrok_config=config, **options).public_url
        except Exception as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="nbmcp-ngrok-start", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        for _ in range(3):  # pyngrok reads the agent's output with no deadline: end the agent
            started = _registered(config.ngrok_path)
            if started is not None:
                stop_process(started.proc, wait=2.0)
            worker.join(2.0)
            if not worker.is_alive():
                break
        raise TunnelError(f"the ngrok agent did not come up within {timeout:g} s")
    error = outcome.get("error")
    if error is not None:
        raise TunnelError(_why(error)) from None  # pyngrok's own text may quote the token
    url = outcome.get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise TunnelError(f"ngrok gave no HTTPS URL (got {one_line(str(url))})")
    return url


class NgrokTunnel(ProcessTunnel):
    """An ngrok endpoint served by a private agent process."""

    provider = "ngrok"
    forwarded_header = "x-forwarded-for"
    holds_get_streams = False


def open_ngrok(port: int, *, domain: str | None, host: str, timeout: float) -> NgrokTunnel:
    """Open an ngrok tunnel to ``host:port`` (on ``domain``, a reserved domain, if given)."""
    token = find_token()
    if not token:
        raise TunnelUnavailableError(NO_TOKEN)
    remember_secret(token)
    guard_loggers(_PYNGROK_LOGGERS)
    agent = agent_path()
    from pyngrok import conf

    workdir = tempfile.mkdtemp(prefix="nbmcp-ngrok-")
    config: PyngrokConfig | None = None
    public_url: str | None = None
    try:
        config = conf.PyngrokConfig(
            ngrok_path=private_link(agent, workdir),
            config_path=write_config(workdir, token),
            monitor_thread=False,  # our LineReader drains the agent's output instead
            startup_timeout=max(1, math.ceil(timeout)),
            request_timeout=max(1.0, min(timeout, 10.0)),
        )
        config.auth_token = None  # else pyngrok passes NGROK_AUTHTOKEN as --authtoken (argv)
        config.api_key = None
        options: dict[str, Any] = {
            "addr": upstream_url(host, port),
            "name": f"nbmcp-{secrets.token_hex(4)}",
            "inspect": False,  # the endpoint asks for no inspection too (the config already says so)
        }
        if domain:
            options["url"] = f"https://{domain}"
        public_url = _connect(config, options, timeout)
        started = _registered(config.ngrok_path)
        if started is None or started.proc.stdout is None or started.proc.poll() is not None:
            raise TunnelError("the ngrok agent exited right after it started")
        reader = LineReader(
            started.proc.stdout, name="nbmcp-ngrok-output", error=_agent_error, on_line=_log_line
        )
        done, url = config, public_url
        return NgrokTunnel(
            public_url=public_url,
            proc=started.proc,
            reader=reader,
            agent="the ngrok agent",
            workdir=workdir,
            on_close=lambda: _forget(done, url),
        )
    except BaseException:
        if config is not None:
            _discard(config, public_url)
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _discard(config: PyngrokConfig, public_url: str | None) -> None:
    """After a failed open: end the agent if one started, close its pipe, forget it."""
    started = _registered(config.ngrok_path)
    if started is not None:
        stop_process(started.proc)
        if started.proc.stdout is not None:
            with contextlib.suppress(OSError, ValueError):
                started.proc.stdout.close()
    with contextlib.suppress(Exception):  # best effort: the open's own error is what matters
        _forget(config, public_url)


def _log_line(line: str) -> None:
    logger.debug("ngrok agent: %s", redact(line))
