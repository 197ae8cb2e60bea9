"""The provider registry, the default choice and :func:`open_tunnel`.

:data:`PROVIDERS` maps a name to a :class:`Provider`: whether it is usable here (cheap, no
process started) and how to open it. Its order is the order of preference: the default is the
first usable one (ngrok when a token is configured, else cloudflared when its binary is found).
Adding a provider is one module with an ``open_*`` function and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nbmcp.errors import TunnelUnavailableError
from nbmcp.tunnel import cloudflared, ngrok
from nbmcp.tunnel.base import Tunnel

__all__ = ["PROVIDERS", "Provider", "choose_provider", "open_tunnel"]


@dataclass(frozen=True)
class Provider:
    """One tunnel provider.

    Attributes:
        name: Its key in :data:`PROVIDERS` (``Tunnel.provider``).
        usable: Whether it can be opened here (token or binary found); never starts anything.
        open: Opens a tunnel: ``open(port, domain=..., host=..., timeout=...)``.
        how: One line telling a user how to make it usable.
    """

    name: str
    usable: Callable[[], bool]
    open: Callable[..., Tunnel]
    how: str


PROVIDERS: dict[str, Provider] = {
    "ngrok": Provider("ngrok", lambda: ngrok.find_token() is not None, ngrok.open_ngrok, ngrok.HOW),
    "cloudflared": Provider(
        "cloudflared",
        lambda: cloudflared.find_binary() is not None,
        cloudflared.open_cloudflared,
        cloudflared.HOW,
    ),
}


def choose_provider() -> str:
    """The provider to use when none is named: the first usable one in :data:`PROVIDERS`.

    Raises:
        TunnelUnavailableError: none is usable; the message gives each way, one line each.
    """
    for name, provider in PROVIDERS.items():
        if provider.usable():
            return name
    ways = [provider.how for provider in PROVIDERS.values()]
    lines = [f"no tunnel provider is set up; {ways[0]}", *(f"or {way}" for way in ways[1:])]
    raise TunnelUnavailableError("\n".join(lines))


def _domain(domain: str | None) -> str | None:
    """``domain`` as a bare host name (a scheme or a trailing ``/`` is dropped)."""
    if domain is None or not domain.strip():
        return None
    name = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not name or any(c in name for c in "/ ?#@"):
        raise TunnelUnavailableError(f"--domain takes a host name such as my-app.ngrok.app, not {domain!r}")
    return name


def open_tunnel(
    port: int,
    provider: str | None = None,
    *,
    domain: str | None = None,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> Tunnel:
    """Open a public HTTPS tunnel to the local server at ``host:port``.

    Args:
        port: The local server's port.
        provider: A key of :data:`PROVIDERS`; default: :func:`choose_provider`.
        domain: A reserved domain (ngrok); cloudflared quick tunnels refuse one.
        host: The local server's address, as the agent should reach it.
        timeout: Seconds to wait for the tunnel to come up.

    Returns:
        The open tunnel; close it with :meth:`Tunnel.close` (or ``with``).

    Raises:
        TunnelUnavailableError: unknown provider, no token, no binary, or a domain the
            provider cannot serve (one line; never the token).
        TunnelError: the tunnel did not come up in time, or the agent said why not.
    """
    if not 0 < port < 65536:
        raise ValueError(f"port must be 1-65535, not {port}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    name = (provider or choose_provider()).strip().lower()
    entry = PROVIDERS.get(name)
    if entry is None:
        raise TunnelUnavailableError(
            f"unknown tunnel provider {provider!r}; choose one of: {', '.join(PROVIDERS)}"
        )
    return entry.open(port, domain=_domain(domain), host=host, timeout=timeout)
