"""Publishing: one call gives the server a public HTTPS URL through a tunnel, protected by default.

:meth:`Publishing.publish` opens a tunnel (:mod:`nbmcp.tunnel`) to the running server, turns
on the built-in OAuth server unless the owner said otherwise (ChatGPT's and Claude's
connectors take only OAuth or no authentication), lets the public host past the Host guard,
and returns the public ``/mcp`` URL once it answers through the tunnel. :meth:`unpublish`
(and :meth:`~nbmcp.server.core.MCPServer.stop`) undoes every part of that: what publishing
turned on, it turns off; nothing is left running.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from nbmcp.errors import ServerStateError

if TYPE_CHECKING:
    from nbmcp.config import ServerConfig
    from nbmcp.tunnel import Tunnel

__all__ = ["NO_AUTH_WARNING", "Publishing"]

logger = logging.getLogger("nbmcp")

NO_AUTH_WARNING = (
    "nbmcp: WARNING: published with no authentication: anyone who has the URL can call every tool "
    "and read or change this notebook's data"
)
_ANSWER_WAIT = 15.0
"""Seconds :meth:`Publishing.publish` waits for the public URL to answer through the tunnel."""
_WATCH_EVERY = 1.0
"""Seconds between two looks at the tunnel's process."""


@dataclass
class _Published:
    """What one publish changed, so that unpublishing puts each thing back as it was."""

    tunnel: Tunnel
    provider: str
    domain: str | None
    added_host: str | None = None
    forwarded_header: str = "x-forwarded-for"
    get_stream: bool = True
    oauth_added: bool = False
    public_url: str | None = None
    """The public URL before publishing (a reverse proxy's), put back by unpublishing."""
    reached: str | None = None
    """Why the public URL did not answer from here (``None``: it did)."""
    watcher: threading.Event = field(default_factory=threading.Event)
    """Set to end the watching thread."""
    watching: threading.Thread | None = None


class Publishing:
    """``publish``, ``unpublish``, the tunnel's health and ``connect_info`` for :class:`~nbmcp.MCPServer`."""

    config: ServerConfig
    token_verifier: Any
    oauth: Any
    doors: dict[str, Any]
    _lock: threading.RLock
    _published: _Published | None = None

    if TYPE_CHECKING:  # provided by MCPServer

        def start(self, host: str | None = None, port: int | None = None) -> str: ...
        def _use_auth(self, auth: Any) -> None: ...
        @property
        def port(self) -> int | None: ...
        @property
        def url(self) -> str | None: ...

    @property
    def tunnel(self) -> Tunnel | None:
        """The open tunnel while published (``None`` otherwise)."""
        published = self._published
        return published.tunnel if published is not None else None

    def publish(
        self, provider: str | None = None, *, domain: str | None = None, no_auth: bool = False
    ) -> str:
        """Give the server a public HTTPS URL through a tunnel; returns the public ``.../mcp`` URL.

        Starts the server first if it is not running. Unless ``no_auth`` is given or an outside
        issuer is configured, the built-in OAuth server is turned on (a key configured before
        stays valid and is the owner key; with none, one is generated: ``server.access_key``).
        The URL is returned once it answers through the tunnel (a bounded wait); when it does
        not answer from here (some networks cannot reach their own public URL), the URL is
        still returned and :attr:`publish_note` says why in one line.

        Publishing again while published returns the same URL; to change the provider or the
        domain, :meth:`unpublish` first.

        Args:
            provider: ``"ngrok"`` or ``"cloudflared"``; default: ngrok when its token is
                configured, else cloudflared when its binary is found.
            domain: A reserved ngrok domain.
            no_auth: Publish with no authentication added (a loud warning is logged).

        Raises:
            TunnelUnavailableError: no token, no binary, or no provider at all (one line).
            TunnelError: the tunnel did not come up.
            ServerStateError: already published through another provider or domain.
        """
        from nbmcp.tunnel import open_tunnel

        with self._lock:
            current = self._published
            if current is not None and current.tunnel.alive():
                if (provider in (None, current.provider)) and (domain in (None, current.domain)):
                    return current.tunnel.public_url + "/mcp"
                raise ServerStateError(
                    f"already published through {current.provider} at {current.tunnel.public_url}; "
                    "unpublish() first to change the provider or domain"
                )
            if current is not None:  # its tunnel died: publish anew
                self.unpublish()
            if self.url is None:
                self.start()
            assert self.port is not None
            host = self.config.host
            target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host.strip("[]")
            tunnel = open_tunnel(self.port, provider, domain=domain, host=target)
            published = _Published(tunnel, tunnel.provider, domain)
            self._published = published
            try:
                self._protect(published, no_auth)
                self._let_in(published)
            except BaseException:
                self.unpublish()
                raise
            self._watch(published)
        published.reached = _answers(tunnel.public_url + "/health")
        if published.reached is not None:
            logger.warning("nbmcp: %s", self.publish_note)
        return tunnel.public_url + "/mcp"

    def unpublish(self) -> None:
        """Close the tunnel and put back what publishing changed (idempotent)."""
        with self._lock:
            published, self._published = self._published, None
            if published is None:
                return
            published.watcher.set()
            watching = published.watching
            if watching is not None and watching is not threading.current_thread():
                watching.join(2 * _WATCH_EVERY)  # it wakes at once: nothing left running
            published.tunnel.close()
            config = self.config
            config.public_url = published.public_url
            if published.added_host and published.added_host in config.allowed_hosts:
                config.allowed_hosts.remove(published.added_host)
            config.forwarded_header = published.forwarded_header
            config.get_stream = published.get_stream
            if published.oauth_added:
                self._drop_oauth()

    @property
    def publish_note(self) -> str | None:
        """One line on what is wrong with the publication, if anything (for ``%mcp status``)."""
        published = self._published
        if published is None:
            return None
        problem = published.tunnel.problem() if not published.tunnel.alive() else None
        if problem:
            return f"the {published.provider} tunnel is down ({problem}); the local server still serves"
        if published.reached is not None:
            return (
                f"{published.tunnel.public_url} did not answer from here ({published.reached}); "
                "some networks cannot reach their own public URL: try it from another machine"
            )
        return None

    @property
    def tunnel_state(self) -> str:
        """``"none"``, ``"up"`` or ``"down"``: the tunnel as last seen."""
        published = self._published
        if published is None:
            return "none"
        return "up" if published.tunnel.alive() else "down"

    def connect_info(self) -> dict[str, dict[str, Any]]:
        """How to connect each client, keyed by client (``chatgpt``, ``claude``, ``cursor``, ...).

        Each entry has ``snippet`` (the exact text to paste) and ``steps`` (what to click). The
        snippets name the public URL while published, else the local one, and the auth the
        server needs; a key is referred to by environment variable or input, never written.
        """
        from nbmcp.connect import ConnectTarget, connect_info

        base = (self.config.public_url or _local_base(self.url, self.config)).rstrip("/")
        target = ConnectTarget(name=self._connect_name(), url=base + "/mcp", auth=self.auth_mode)
        return connect_info(target)

    def _connect_name(self) -> str:
        name: str = getattr(self, "name", "nbmcp")
        return name

    @property
    def auth_mode(self) -> str:
        """``"none"``, ``"key"``, ``"oauth"`` or ``"oauth+key"``: what a client must bring.

        ``"oauth"`` when an OAuth mode is on and the only key is the generated owner key
        (clients sign in); ``"oauth+key"`` when the owner configured keys of their own too.
        """
        oauth_on = self.token_verifier is not None
        generated = getattr(self.oauth, "generated_key", None)
        own_key = self.config.requires_key and not (generated and self.config.api_key == generated)
        if oauth_on:
            return "oauth+key" if own_key else "oauth"
        return "key" if self.config.requires_key else "none"

    # -- the parts of publishing ----------------------------------------------------------------

    def _protect(self, published: _Published, no_auth: bool) -> None:
        if no_auth:
            if self.token_verifier is None and not self.config.requires_key:
                logger.warning(NO_AUTH_WARNING)
            return
        if self.token_verifier is not None:  # the built-in server or an outside issuer already
            return
        self._use_auth("oauth")
        published.oauth_added = True

    def _drop_oauth(self) -> None:
        from nbmcp.http.oauth import OAuthHost, uninstall_builtin_oauth

        if self.oauth is not None:
            uninstall_builtin_oauth(cast("OAuthHost", self), self.oauth)

    def _let_in(self, published: _Published) -> None:
        tunnel, config = published.tunnel, self.config
        host = (urlsplit(tunnel.public_url).hostname or "").lower()
        if host and "*" not in config.allowed_hosts and host not in config.allowed_hosts:
            config.allowed_hosts.append(host)
            published.added_host = host
        published.forwarded_header = config.forwarded_header
        published.get_stream = config.get_stream
        config.forwarded_header = tunnel.forwarded_header
        if tunnel.holds_get_streams:
            config.get_stream = False
        published.public_url = config.public_url
        config.public_url = tunnel.public_url

    def _watch(self, published: _Published) -> None:
        """Log once, in one line, when the tunnel's process dies (never raises into a cell)."""

        def watch() -> None:
            while not published.watcher.wait(_WATCH_EVERY):
                if not published.tunnel.alive():
                    logger.warning(
                        "nbmcp: the %s tunnel is down (%s); the local server still serves; "
                        "publish again for a new URL",
                        published.provider,
                        published.tunnel.problem() or "its process exited",
                    )
                    return

        published.watching = threading.Thread(target=watch, name="nbmcp-tunnel-watch", daemon=True)
        published.watching.start()


def _answers(url: str) -> str | None:
    """``None`` when ``url`` answers over HTTPS from here within a bounded wait, else why not."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + _ANSWER_WAIT
    why = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=max(0.5, deadline - time.monotonic())) as response:
                if response.status == 200:
                    return None
                why = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            why = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            why = str(reason).splitlines()[0][:160] if str(reason) else type(exc).__name__
        time.sleep(0.2)
    return why


def _local_base(url: str | None, config: ServerConfig) -> str:
    """The local base URL: the running server's, else where :meth:`start` would serve."""
    if url:
        return url[: -len("/mcp")]
    return f"http://127.0.0.1:{config.port or 8000}"
