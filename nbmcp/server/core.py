"""``MCPServer`` itself: its settings and parts, authentication, and serving (start, stop, run, app).

Registration comes from :class:`~nbmcp.server.registration.Registration`, calling from
Python from :class:`~nbmcp.server.calling.Calling`.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nbmcp.config import ServerConfig
from nbmcp.errors import ServerStateError
from nbmcp.http.guard import default_layers
from nbmcp.http.mcp_endpoint import McpEndpoint
from nbmcp.http.middleware import check_middleware
from nbmcp.http.resource_metadata import metadata_doors
from nbmcp.monitor import Monitor
from nbmcp.openapi import ActionSchemas
from nbmcp.protocol import Engine, ServerInfo, Sessions
from nbmcp.server.calling import Calling
from nbmcp.server.monitoring import Monitoring
from nbmcp.server.publishing import Publishing
from nbmcp.server.registration import Registration
from nbmcp.server.state import ServerState
from nbmcp.tools import Registry
from nbmcp.tools.workers import WorkerPool

if TYPE_CHECKING:
    from nbmcp.auth import TokenVerifier
    from nbmcp.http.chain import Layer
    from nbmcp.openapi import SchemaReport

__all__ = ["MCPServer"]


class MCPServer(Registration, Calling, Publishing, Monitoring):
    """An MCP server whose tools are your Python functions.

    Args:
        name: Shown to clients as ``serverInfo.name``.
        version: Your server's version (``serverInfo.version``).
        instructions: Guidance clients may add to their model's prompt.
        title: A human-friendly name.
        api_key: The owner key: every endpoint but ``/health`` then needs a key
            (default: the ``NBMCP_API_KEY`` environment variable); principal ``default``.
        api_keys: More keys by label, ``{"cursor": "K1", "ci": "K2"}``: each label is the
            principal of the calls made with its key (in call records and ``Context``).
        host: Interface for :meth:`start`; loopback by default.
        port: Port for :meth:`start`; ``0`` picks a free one.
        stateless: Issue no sessions (for many workers).
        allowed_hosts: ``Host`` names accepted (DNS-rebinding guard); loopback by default.
        allowed_origins: Another name for ``cors`` (the one list of allowed origins).
        cors: Browser origins allowed to call the server (CORS; off by default): origins
            (``"https://a.example"``), the presets ``"chatgpt"`` and ``"claude"``, or ``"*"``.
        middleware: ASGI middleware (``Middleware(cls, **options)`` or a class) and
            ``async def mw(request, call_next)`` functions, the first outermost; they run after
            authentication and see ``request.state.principal``.
        tool_timeout: Seconds before a call is answered with a timeout error.
        mask_error_details: Tell clients only that a tool failed, not why.
        debug: Add tracebacks to the errors clients get (a failing tool, an internal error):
            for development on your own machine; off, clients get no traceback or file path.
        auth: OAuth on top of (or instead of) API keys: ``"oauth"`` for the built-in
            authorization server, or an :class:`~nbmcp.auth.issuer.OAuthIssuer` for tokens
            from an outside issuer; ``None`` (default) for API keys only.
        protect_schema: Require credentials for ``/openapi.json`` too (open by default: it
            holds no secret, and ChatGPT's "Import from URL" fetches it without credentials).
        rate_limit: Requests per window for each principal (else client address), e.g.
            ``"100/15min"``; ``"auto"`` (default) is off while local only and
            :data:`~nbmcp.config.DEFAULT_RATE_LIMIT` once published or bound elsewhere;
            ``"off"`` turns it off. Other limits: ``server.config`` (:class:`ServerConfig`).
        trust_proxy: Take the client address from ``X-Forwarded-For`` (the right-most entry
            your proxy wrote), for a server behind a proxy you run.
        max_sessions: Live sessions kept at most (the longest idle is ended past it).
        public_url: The public base URL when a reverse proxy or platform terminates TLS in
            front of the server (``https://host/prefix``; the proxy removes the prefix): its
            host is let in, and every link the server writes carries it.
        journal: A SQLite file that keeps every finished call (created 0600, WAL: readable
            while serving and after a crash); :meth:`stats` and :meth:`calls` read memory.
        log_calls: A file that gets one JSON line per finished call (created 0600), written
            before the answer leaves, so ``kill -9`` loses no answered call.
        telemetry: OpenTelemetry (``pip install "nbmcp[otel]"``; off by default): ``True`` for the
            global providers, a ``TracerProvider``, a ``MeterProvider`` or a ``(tracer_provider,
            meter_provider)`` pair (``None`` in it: the global one); see :mod:`nbmcp.telemetry`.
        request_state_secret: Signs the state of 2026-07-28 input-required rounds (at least 32
            bytes); workers behind one URL must share it. Default: a random key per process.
        list_ttl_ms: How long 2026-07-28 clients may cache the lists (``ttlMs``; default 0).

    Example::

        server = MCPServer("weather")

        @server.tool
        def get_weather(city: str) -> dict:
            \"\"\"Current weather for a city.\"\"\"
            return {"city": city, "temp_c": 21}

        server.start(port=8000)  # http://127.0.0.1:8000/mcp
    """

    def __init__(
        self,
        name: str = "nbmcp",
        version: str = "0.1.0",
        *,
        instructions: str | None = None,
        title: str | None = None,
        website_url: str | None = None,
        api_key: str | None = None,
        api_keys: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        stateless: bool = False,
        allowed_hosts: list[str] | None = None,
        allowed_origins: list[str] | None = None,
        session_ttl: float = 3600.0,
        tool_timeout: float | None = 60.0,
        mask_error_details: bool = False,
        json_response: bool = False,
        auth: Any = None,
        protect_schema: bool = False,
        cors: Sequence[str] | None = None,
        middleware: Sequence[Any] | None = None,
        rate_limit: str | None = "auto",
        trust_proxy: bool = False,
        max_sessions: int = 1000,
        debug: bool = False,
        public_url: str | None = None,
        journal: str | os.PathLike[str] | None = None,
        log_calls: str | os.PathLike[str] | None = None,
        telemetry: Any = False,
        request_state_secret: str | bytes | None = None,
        list_ttl_ms: int = 0,
    ) -> None:
        self.config = ServerConfig(
            host=host,
            port=port,
            api_key=api_key,
            api_keys=dict(api_keys or {}),
            stateless=stateless,
            cors=[*(cors or []), *(allowed_origins or [])],
            session_ttl=session_ttl,
            tool_timeout=tool_timeout,
            json_response=json_response,
            mask_error_details=mask_error_details,
            protect_schema=protect_schema,
            rate_limit=rate_limit,
            trust_proxy=trust_proxy,
            max_sessions=max_sessions,
            debug=debug,
            request_state_secret=request_state_secret,
            list_ttl_ms=list_ttl_ms,
        )
        if allowed_hosts is not None:
            self.config.allowed_hosts = list(allowed_hosts)
        self.monitor = Monitor()
        self.registry = Registry(self.monitor, config=self.config)
        self._init_monitoring(journal, log_calls)
        self.info = ServerInfo(name, version, title=title, instructions=instructions, website_url=website_url)
        self.engine = Engine(self.registry, self.info, Sessions(session_ttl, max_sessions=max_sessions))
        self.engine.debug = lambda: self.config.debug
        if telemetry:  # imported only when asked for: OpenTelemetry is an optional extra
            from nbmcp.telemetry import install

            install(self.engine, telemetry)
        self.registry.on_change(self._announce)
        self.endpoint = McpEndpoint(self.engine, self.config)
        self.guards: list[Layer] = default_layers(self.config, lambda: self.token_verifier)
        """The guard chain's layers, in order; every door's requests pass them once."""
        self.middleware: list[Any] = check_middleware(middleware or [])
        """The user's middleware, run after the layers and before the door (read per request)."""
        self.doors: dict[str, Any] = {}
        """Raw ASGI apps by exact path beside ``/mcp`` and the REST facade (OAuth endpoints,
        well-known documents); behind the same guard chain."""
        self.doors.update(metadata_doors(self.config, lambda: self.token_verifier, self._tool_scopes))
        self.schemas = ActionSchemas(self.registry, self.info, self.config)
        """The ChatGPT Action schema, kept current as tools change (``/openapi.json``)."""
        self.token_verifier: TokenVerifier | None = None
        """What checks bearer tokens that are not API keys (set by ``auth``); ``None``: keys only."""
        self.oauth: Any = None
        """The built-in authorization server, with ``auth="oauth"``."""
        self.state = ServerState.NEW
        if auth is not None:
            self._use_auth(auth)
        if public_url:
            self.public_url = public_url
        self._app: Any = None
        self._background: Any = None
        self._executor: WorkerPool | None = None
        self._lock = threading.RLock()
        self._app_lock = threading.Lock()

    def _use_auth(self, auth: Any) -> None:
        """Turn on an OAuth mode (see the ``auth`` argument)."""
        if auth == "oauth":
            from nbmcp.http.oauth import install_builtin_oauth, reinstall_builtin_oauth

            if self.oauth is None:
                self.oauth = install_builtin_oauth(self)
            elif self.token_verifier is not self.oauth:  # turned off by unpublish(): the same one again
                reinstall_builtin_oauth(self, self.oauth)
            return
        from nbmcp.auth.issuer import OAuthIssuer

        if not isinstance(auth, OAuthIssuer):
            raise TypeError(f"auth must be 'oauth', an OAuthIssuer or None, not {auth!r}")
        self.token_verifier = auth

    @property
    def name(self) -> str:
        """The server's name."""
        return self.info.name

    @property
    def access_key(self) -> str | None:
        """The owner key: ``api_key``, else the key labelled ``owner``, else the generated one.

        ``auth="oauth"`` generates one when none is configured.

        It is the key that approves OAuth clients on the consent page. Print it only masked:
        a cell output lands in the saved notebook.
        """
        from nbmcp.config import OWNER_LABEL

        return self.config.api_key or self.config.api_keys.get(OWNER_LABEL) or None

    def _announce(self, kind: str) -> None:
        self.engine.call_soon(self.engine.broadcast, f"notifications/{kind}/list_changed")

    # -- serving --------------------------------------------------------------------------

    @property
    def app(self) -> Any:
        """The FastAPI (ASGI) app: ``/mcp``, REST, ``/health``, behind the guard chain; mount it anywhere."""
        with self._app_lock:  # built once, whichever thread asks first
            if self._app is not None:
                return self._app
            from nbmcp.http.app import build_app

            self._app = build_app(
                self.endpoint,
                self.config,
                {"name": self.name, "counts": self._counts, "schemas": self.schemas},
                self.guards,
                self.doors,
                self.middleware,
            )
        return self._app

    def _counts(self) -> dict[str, int]:
        return {
            "tools": len(self.registry.tools),
            "resources": len(self.registry.resources),
            "prompts": len(self.registry.prompts),
            "sessions": len(self.engine.sessions),
        }

    @property
    def public_url(self) -> str | None:
        """The public base URL (``https://...``) clients reach this server on, if published.

        A tunnel sets it; the ChatGPT Action schema names it in ``servers``. Setting it also
        lets requests with that Host in (the DNS-rebinding guard).
        """
        return self.config.public_url

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        from urllib.parse import urlsplit

        if value:
            host = (urlsplit(value).hostname or "").lower()
            allowed = self.config.allowed_hosts
            if host and "*" not in allowed and host not in allowed:
                allowed.append(host)
        self.config.public_url = value or None
        from nbmcp.http.resource_metadata import refresh_well_known

        refresh_well_known(self.doors, self.config.public_url)

    def action_schema(
        self,
        url: str | None = None,
        *,
        openapi: str = "3.1.0",
        envelope: bool = False,
        auth: str | None = None,
    ) -> SchemaReport:
        """The ChatGPT Action schema of this server, checked: ``report.document``, ``report.findings``.

        Args:
            url: The server URL to name in ``servers``; default: :attr:`public_url`, else the
                local URL (``http://127.0.0.1:PORT``, the port of :meth:`start` or 8000).
            openapi: ``"3.1.0"`` (default) or ``"3.0"``.
            envelope: One ``callMCPTool`` operation posting JSON-RPC to ``/mcp`` (for more
                than 30 tools).
            auth: ``"header"`` (``X-API-Key``), ``"bearer"``, ``"oauth"`` or ``"none"``;
                default: what the server requires.

        Raises:
            SchemaError: an unknown version or auth style, or a bad URL.
        """
        host = self.config.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else (f"[{host}]" if ":" in host else host)
        local = self.url or f"http://{shown}:{self.config.port or 8000}"
        return self.schemas.report(url=url, local_url=local, openapi=openapi, envelope=envelope, auth=auth)

    @property
    def url(self) -> str | None:
        """``http://HOST:PORT/mcp`` while running (``https://`` with a certificate), else ``None``."""
        background = self._background
        if self.state is not ServerState.RUNNING or background is None:
            return None
        host = self.config.host
        shown = (
            "127.0.0.1"
            if host in ("0.0.0.0", "")
            else (f"[{host}]" if ":" in host and not host.startswith("[") else host)
        )
        scheme = "https" if background.tls else "http"
        return f"{scheme}://{shown}:{background.port}/mcp"

    @property
    def port(self) -> int | None:
        """The bound port while running."""
        return self._background.port if self._background is not None else None

    def start(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> str:
        """Serve in a background thread; returns the ``/mcp`` URL once the socket is bound.

        Calling it again while running returns the same URL (a different host, port or
        certificate raises :class:`~nbmcp.ServerStateError`).

        Args:
            host: Interface to bind (default: the constructor's).
            port: Port (default: the constructor's; ``0`` picks a free one).
            ssl_certfile: A PEM certificate chain: serve HTTPS directly (``https://`` URL).
            ssl_keyfile: Its unencrypted PEM private key, unless it is in ``ssl_certfile``.

        Raises:
            PortInUseError: the port is taken.
            ServerStartError: the certificate or key cannot serve TLS (one line saying why).
        """
        from nbmcp.http.app import FastLane
        from nbmcp.http.chain import GuardChain
        from nbmcp.http.middleware import UserMiddleware
        from nbmcp.http.resource_metadata import refresh_well_known
        from nbmcp.http.runner import BackgroundServer

        with self._lock:
            if self.state is ServerState.RUNNING:
                same_host = host is None or host == self.config.host
                same_port = port in (None, 0, self.port)
                running = self._background
                asked = (ssl_certfile, ssl_keyfile)
                same_tls = asked == (None, None) or (
                    running is not None and asked == (running.ssl_certfile, running.ssl_keyfile)
                )
                if same_host and same_port and same_tls:
                    return str(self.url)
                raise ServerStateError(
                    f"server already running at {self.url}; stop() it first to change host, port or TLS"
                )
            if host is not None:
                self.config.host = host
            if port is not None:
                self.config.port = port
            self._executor = WorkerPool(max_workers=32, name="nbmcp-tool")
            self.registry.executor = self._executor

            def on_loop(loop: Any) -> None:
                self.engine.loop = loop

            # behind a proxy at https://host/prefix: answer the path-inserted well-known documents
            refresh_well_known(self.doors, self.config.public_url)
            lane = FastLane(self.endpoint, lambda: self.app, self.doors)
            background = BackgroundServer(
                # judges every request once, whichever door; then the user's middleware, once
                GuardChain(UserMiddleware(lane, self.middleware, lambda: self.config.debug), self.guards),
                self.config.host,
                self.config.port,
                on_loop=on_loop,
                before_stop=self.endpoint.close_streams,
                ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile,
            )
            try:
                background.start()
            except BaseException:
                self._shutdown_executor()
                raise
            self._background = background
            self.state = ServerState.RUNNING
            self._serving_began()
            threading.Thread(target=lane.warm, name="nbmcp-app", daemon=True).start()
            return str(self.url)

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        with self._lock:
            self.unpublish()
            background, self._background = self._background, None
            if background is not None:
                background.stop()
                self._serving_ended()
            self._shutdown_executor()
            self.engine.loop = None
            self.engine.sessions.clear()
            with self._app_lock:  # waits for a build still under way, then drops it
                self.endpoint = McpEndpoint(self.engine, self.config)
                self._app = None
            if self.state is ServerState.RUNNING:
                self.state = ServerState.STOPPED

    def _shutdown_executor(self) -> None:
        executor, self._executor = self._executor, None
        self.registry.executor = None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        announce: Callable[[str], None] | None = print,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        """Serve in the foreground until SIGINT or SIGTERM (for scripts and ``nbmcp serve``).

        The signal handlers go in before the server starts, so a signal sent the moment it
        answers (while ``announce`` runs) stops it too.
        """
        done = threading.Event()
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: done.set())
        try:
            url = self.start(host, port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
            if announce is not None:
                announce(url)
            while not done.wait(0.5):
                background = self._background
                if background is None or not background.running:
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def __enter__(self) -> MCPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url or self.state.value
        return f"<MCPServer {self.name!r} {where} tools={len(self.registry.tools)}>"
