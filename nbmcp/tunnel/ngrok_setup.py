"""Where ngrok's pieces are, before its agent starts: the token, the binary, the private files.

The token is ``NGROK_AUTHTOKEN``, else the one in pyngrok's (and the agent's) own config file.
The agent is ``NBMCP_NGROK_PATH`` when set, else pyngrok's managed download (fetched on first
use). Each tunnel gets a private directory (0700) with the agent's config file (0600: the token,
the local API on a free loopback port, traffic inspection off) and a link to the binary.
pyngrok is imported inside the functions only.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from typing import Any

from nbmcp.errors import TunnelUnavailableError
from nbmcp.tunnel.base import one_line

__all__ = [
    "AUTHTOKEN_URL",
    "HOW",
    "NO_TOKEN",
    "PATH_ENV",
    "TOKEN_ENV",
    "agent_path",
    "find_token",
    "private_link",
    "write_config",
]

logger = logging.getLogger("nbmcp.tunnel")

TOKEN_ENV = "NGROK_AUTHTOKEN"
PATH_ENV = "NBMCP_NGROK_PATH"
AUTHTOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
HOW = f"ngrok: set {TOKEN_ENV} to your authtoken from {AUTHTOKEN_URL}"
"""One line: how to make ngrok usable here."""
NO_TOKEN = (
    f"ngrok needs an authtoken: set {TOKEN_ENV} (yours is at {AUTHTOKEN_URL}) "
    "or run `ngrok config add-authtoken TOKEN`"
)


def find_token() -> str | None:
    """The ngrok authtoken: ``NGROK_AUTHTOKEN``, else the one in pyngrok's config file."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or _token_in_pyngrok_config()


def _token_in_pyngrok_config() -> str | None:
    """The authtoken in pyngrok's (and the ngrok agent's) own config file, if any.

    That file is where ``ngrok config add-authtoken`` and pyngrok's ``set_auth_token`` write:
    ``agent.authtoken`` (config version 3) or a top-level ``authtoken`` (version 2).
    """
    from pyngrok import conf, installer

    path = conf.get_config_path(conf.get_default())
    if not os.path.isfile(path):
        return None
    try:
        data: Any = installer.get_ngrok_config(path, use_cache=False)
    except Exception:  # an unreadable or broken user file simply holds no token for us
        logger.debug("nbmcp: could not read pyngrok's config file %s", path, exc_info=True)
        return None
    if not isinstance(data, dict):
        return None
    agent = data.get("agent")
    token = (agent.get("authtoken") if isinstance(agent, dict) else None) or data.get("authtoken")
    if not isinstance(token, str):
        return None
    return token.strip() or None


def agent_path() -> str:
    """The agent binary: ``NBMCP_NGROK_PATH``, else pyngrok's managed one (downloaded if absent)."""
    given = os.environ.get(PATH_ENV, "").strip()
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise TunnelUnavailableError(
                f"{PATH_ENV}={given} is not an executable file: point it at the ngrok agent, "
                "or unset it to let pyngrok download one"
            )
        return given
    from pyngrok import conf, installer

    path = os.environ.get("PYNGROK_NGROK_PATH") or conf.get_default().ngrok_path
    if not os.path.exists(path):
        try:
            installer.install_ngrok(path, ngrok_version="3")
        except Exception as exc:  # any download or unpack failure: one line with the way out
            raise TunnelUnavailableError(
                f"could not download the ngrok agent ({one_line(str(exc) or type(exc).__name__)}); "
                f"install ngrok and set {PATH_ENV} to its path"
            ) from None
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(workdir: str, token: str) -> str:
    """The agent's private config file (0600): token, loopback API, inspection off."""
    path = os.path.join(workdir, "ngrok.yml")
    text = (
        "version: 3\n"
        "agent:\n"
        f"  authtoken: {json.dumps(token)}\n"
        f"  web_addr: 127.0.0.1:{_free_port()}\n"
        "  inspect_db_size: -1\n"  # -1: the agent records no request for its inspector
        "  log_level: info\n"
        "  log_format: logfmt\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def private_link(agent: str, workdir: str) -> str:
    """A link to ``agent`` in ``workdir``: a path of its own, so pyngrok starts a new agent."""
    link = os.path.join(workdir, os.path.basename(agent))
    try:
        os.symlink(os.path.abspath(agent), link)
    except OSError:  # no symlinks here (Windows without the privilege): share the binary's path
        return agent
    return link
