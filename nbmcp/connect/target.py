"""``ConnectTarget``: what every connect snippet is made from (a server's name, URL and auth mode).

The settings for each client depend on three facts only: the name the entry goes under, the
``/mcp`` URL clients call, and what the server asks of them (nothing, an API key, OAuth, or
OAuth with a key beside it). Snippets never hold a key: they name the environment variable
(or the editor's password input) the key is read from.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["AUTH_MODES", "ConnectTarget", "auth_mode"]

AUTH_MODES = ("none", "key", "oauth", "oauth+key")
"""What a server asks of its callers: nothing, an API key, OAuth tokens, or either."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


def auth_mode(*, oauth: bool, key: bool) -> str:
    """The auth mode of a server from two facts: OAuth tokens accepted, an API key required."""
    if oauth:
        return "oauth+key" if key else "oauth"
    return "key" if key else "none"


@dataclass(frozen=True)
class ConnectTarget:
    """A running server as clients see it.

    Args:
        name: The server's name; the entry name in files and commands (see :attr:`entry`).
        url: The MCP URL, ``https://host[/prefix]/mcp`` or ``http://127.0.0.1:8000/mcp``.
        auth: ``"none"``, ``"key"``, ``"oauth"`` or ``"oauth+key"`` (:data:`AUTH_MODES`).
        key_env: The environment variable snippets read the key from.
        schema_url: The ChatGPT Action schema; default: the base URL + ``/openapi.json``.

    Raises:
        ValueError: an unknown auth mode, a URL that is not http(s), or a bad variable name.
    """

    name: str
    url: str
    auth: str
    key_env: str = "NBMCP_API_KEY"
    schema_url: str | None = None

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http(s) URL with a host, not {self.url!r}")
        if not _ENV_NAME.match(self.key_env):
            raise ValueError(f"key_env must be an environment variable name, not {self.key_env!r}")

    @property
    def entry(self) -> str:
        """The name as an entry key: letters, digits, ``_`` and ``-``, starting with a letter.

        VS Code's and Claude Code's server names allow no more; the same name everywhere
        keeps the entries recognisable.
        """
        slug = _NOT_SLUG.sub("-", self.name).strip("-") or "nbmcp"
        return slug if slug[0].isalpha() else f"nbmcp-{slug}"

    @property
    def base(self) -> str:
        """The server's base URL: :attr:`url` without its trailing ``/mcp``."""
        return self.url.rstrip("/").removesuffix("/mcp")

    @property
    def schema(self) -> str:
        """The Action schema's URL."""
        return self.schema_url or f"{self.base}/openapi.json"

    @property
    def key(self) -> bool:
        """Whether an API key is accepted (``"key"``, ``"oauth+key"``)."""
        return self.auth in ("key", "oauth+key")

    @property
    def oauth(self) -> bool:
        """Whether OAuth tokens are accepted (``"oauth"``, ``"oauth+key"``)."""
        return self.auth in ("oauth", "oauth+key")

    @property
    def public(self) -> bool:
        """Whether the URL is https on a name or address other clouds can reach (not loopback/private)."""
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or host == "localhost" or host.endswith(".localhost"):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return True  # a name: assume the world resolves it as this machine did
        return address.is_global

    @property
    def env_ref(self) -> str:
        """``${NBMCP_API_KEY}``, as shells (and Claude Code's command line) expand it."""
        return "${" + self.key_env + "}"
