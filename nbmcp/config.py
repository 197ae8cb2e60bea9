"""Settings shared by the layers: what a server listens on and how it treats clients.

A plain dataclass, filled from keyword arguments and a few environment variables
(``NBMCP_API_KEY``); nothing is read from the environment until a server is built. Every
setting has exactly one home here; the layers read it from the config when they need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "CORS_PRESETS",
    "DEFAULT_ALLOWED_HOSTS",
    "DEFAULT_MAX_CALLS",
    "DEFAULT_RATE_LIMIT",
    "LOOPBACK_HOSTS",
    "MAX_BODY_BYTES",
    "OWNER_LABEL",
    "ServerConfig",
    "expand_origins",
    "is_loopback",
    "parse_api_key",
    "read_api_key_file",
]

LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Names of this machine's loopback interface, as a ``Host`` header or a bind address spells them."""

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
"""Host names accepted in the ``Host`` header by default: loopback only (DNS-rebinding guard)."""

MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body any door reads by default (``ServerConfig.max_body_bytes``)."""

DEFAULT_RATE_LIMIT = "120/1min"
"""The rate limit ``rate_limit="auto"`` applies once the server is published or bound to another
interface than loopback: per principal (else per client address), two requests a second on
average with bursts, and a client that passes it waits a minute at most."""

DEFAULT_MAX_CALLS = 16
"""Tool calls in progress at once per principal that ``max_calls_per_principal=None`` allows once
the server is published or bound to another interface: half the worker threads, so one caller
cannot take them all."""


OWNER_LABEL = "owner"
"""The label that makes a labelled key the owner key (as ``api_key`` is)."""


def parse_api_key(value: str) -> tuple[str | None, str]:
    """``LABEL=KEY`` -> ``(LABEL, KEY)``, split at the first ``=``; a plain ``KEY`` -> ``(None, KEY)``.

    A key that itself contains ``=`` must therefore be given with a label (``ci=abc=def``).
    """
    label, sep, key = value.partition("=")
    if not sep:
        return None, value.strip()
    if not label.strip() or not key:
        raise ValueError(f"{value!r} is not LABEL=KEY (a key containing '=' needs a label)")
    return label.strip(), key


def read_api_key_file(path: str) -> dict[str, str]:
    """Keys from a file of ``LABEL KEY`` lines (blank lines and ``#`` comments skipped)."""
    keys: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 1)
            if len(parts) != 2 or not parts[1].strip():
                raise ValueError(f"{path}:{number}: expected 'LABEL KEY'")
            label, key = parts[0], parts[1].strip()
            if label in keys:
                raise ValueError(f"{path}:{number}: the label {label!r} is given twice")
            keys[label] = key
    return keys


CORS_PRESETS: dict[str, tuple[str, ...]] = {
    "chatgpt": ("https://chatgpt.com", "https://chat.openai.com"),
    "claude": ("https://claude.ai", "https://claude.com"),
}
"""Names ``cors=[...]`` and ``--cors`` accept for the browser origins of hosted clients."""


def _origin(value: str) -> str | None:
    """``value`` as a browser serializes an ``Origin`` (``scheme://host[:port]``), or ``None``."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username is not None or parts.password is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def expand_origins(values: Iterable[str], *, strict: bool = True) -> list[str]:
    """Origins and presets (:data:`CORS_PRESETS`) -> the origins they stand for, normalized, once each.

    ``"*"`` stays as it is (any origin, without credentials). With ``strict``, a value that is
    neither an origin nor a preset raises :class:`ValueError`; otherwise it is dropped.
    """
    out: list[str] = []
    for raw in values:
        value = raw.strip()
        preset = CORS_PRESETS.get(value.lower())
        if preset is not None:
            found: list[str] = list(preset)
        elif value == "*":
            found = ["*"]
        else:
            origin = _origin(value)
            if origin is None:
                if strict:
                    names = ", ".join(CORS_PRESETS)
                    raise ValueError(f"{raw!r} is not an origin (https://host[:port]) or a preset ({names})")
                continue
            found = [origin]
        out.extend(o for o in found if o not in out)
    return out


@lru_cache(maxsize=64)
def _origin_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(expand_origins(values, strict=False))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a ``Host`` name, without port) is loopback only."""
    return host.strip().lower() in LOOPBACK_HOSTS


@dataclass
class ServerConfig:
    """How one :class:`~nbmcp.MCPServer` serves.

    Attributes:
        host: Interface to bind; loopback by default.
        port: TCP port; ``0`` picks a free one.
        api_key: The owner key: when set, every endpoint but ``/health`` needs a key
            (``X-API-Key`` or bearer); its principal is ``default``.
        api_keys: More keys by label (``{"cursor": "K1"}``); the label is the caller's
            principal. They call tools; only the owner key (``api_key``, or the one labelled
            ``owner``) approves OAuth clients.
        stateless: Issue no sessions (for many workers behind a balancer).
        allowed_hosts: ``Host`` header names accepted; ``"*"`` accepts any. A published
            server adds its public host here.
        cors: The browser origins allowed to call this server (CORS), and the one list of
            ``Origin`` values accepted besides loopback and allowed hosts' own: origins
            (``https://a.example``), presets (:data:`CORS_PRESETS`: ``"chatgpt"``,
            ``"claude"``) or ``"*"`` (any origin, without credentials). Empty: CORS off.
            ``allowed_origins`` is another name for it.
        session_ttl: Seconds an idle session lives before it expires.
        tool_timeout: Seconds a tool call may run before the client gets an error;
            ``None`` for no limit.
        json_response: Answer requests with JSON even when the client accepts SSE and the
            call would stream (progress and logs are then dropped).
        mask_error_details: Hide a tool's exception text from clients (it is still logged).
        debug: Add the traceback to the error a client gets when a tool raises or the server
            fails (JSON-RPC ``error.data.traceback``, a REST body's ``traceback``, a second text
            block of a failed tool call). For development on your own machine only: a
            traceback shows the server's files and code. Off: clients get no traceback and no
            file path, only the message (a tool's exception message is meant for them).
        max_body_bytes: The largest request body accepted (413 past it), on every door.
        public_url: The server's public base URL (``https://...``), set by a tunnel when the
            server is published; the ChatGPT Action schema names it in ``servers``.
        protect_schema: Require credentials for the Action schema (``/openapi.json``,
            ``/openapi.yaml``) too; by default it is open (it holds no secret, and ChatGPT's
            "Import from URL" fetches it without credentials).
        rate_limit: Requests allowed per window for each principal (else each client
            address), as ``"100/15min"`` (windows in ``s``, ``min``, ``h``, ``d``); 429 with
            ``Retry-After`` past it. ``"auto"`` (default): off while the server is local only
            (loopback and not published), :data:`DEFAULT_RATE_LIMIT` otherwise. ``"off"`` or
            ``None``: no rate limit.
        failed_auth_limit: Failed authentications (401s) allowed per client address per
            window, always on; past it the address gets 429 before its key is checked.
        failed_auth_limit_total: Failed authentications allowed per window for the whole
            server; past it every address that has failed gets 429 too.
        trust_proxy: The server sits behind a proxy you run: the client address is the
            right-most untrusted entry of ``forwarded_header``, not the socket's peer.
        forwarded_header: The header the proxy (``trust_proxy``) or the tunnel (once
            published, for requests from loopback) writes the client's address in.
        trusted_proxies: Addresses or networks of proxies besides loopback, skipped when
            reading ``forwarded_header`` from the right.
        max_sessions: Live sessions kept at most; past it the longest idle is ended.
        max_streams_per_session: SSE streams open at once on one session (429 past it);
            ``None`` or ``0``: no cap.
        max_calls_per_principal: ``tools/call`` requests in progress at once per principal
            (else per client address); 429 past it. ``None`` (default): like ``rate_limit=
            "auto"``, no cap while local only, :data:`DEFAULT_MAX_CALLS` otherwise; ``0``: no
            cap.
        get_stream: Offer the standalone GET event stream on ``/mcp``; ``False`` answers GET
            with 405 (clients then use POST streams). Publishing through a tunnel that holds
            GET streams open until they close (cloudflared quick tunnels) turns it off.
        sse_keepalive: Idle seconds before an open event stream gets a comment line
            (``: keepalive``), so proxies and tunnels do not drop a quiet stream.
        request_state_secret: The key (at least 32 bytes) that signs the ``requestState`` of
            2026-07-28 input-required rounds. Workers serving the same tools behind one URL
            must share it; ``None`` (default): the ``NBMCP_REQUEST_STATE_SECRET`` environment
            variable, else a random key per process, so a retry must come back to the same
            process.
        request_state_ttl: Seconds a client has to answer an input-required round.
        list_ttl_ms: How long 2026-07-28 clients may cache ``server/discover`` and the tool,
            prompt and resource lists (``ttlMs``); 0 (default) so a notebook's edits show at once.
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    api_keys: dict[str, str] = field(default_factory=dict)
    stateless: bool = False
    allowed_hosts: list[str] = field(default_factory=lambda: list(DEFAULT_ALLOWED_HOSTS))
    cors: list[str] = field(default_factory=list)
    session_ttl: float = 3600.0
    tool_timeout: float | None = 60.0
    json_response: bool = False
    mask_error_details: bool = False
    debug: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    public_url: str | None = None
    protect_schema: bool = False
    rate_limit: str | None = "auto"
    failed_auth_limit: str = "20/1min"
    failed_auth_limit_total: str = "200/1min"
    trust_proxy: bool = False
    forwarded_header: str = "x-forwarded-for"
    trusted_proxies: list[str] = field(default_factory=list)
    max_sessions: int = 1000
    max_streams_per_session: int | None = 16
    max_calls_per_principal: int | None = None
    get_stream: bool = True
    sse_keepalive: float = 15.0
    request_state_secret: str | bytes | None = field(default=None, repr=False)
    request_state_ttl: float = 600.0
    list_ttl_ms: int = 0

    def __post_init__(self) -> None:
        if self.api_key is None:
            self.api_key = os.environ.get("NBMCP_API_KEY") or None
        if self.request_state_secret is None:
            self.request_state_secret = os.environ.get("NBMCP_REQUEST_STATE_SECRET") or None
        if self.tool_timeout is not None and self.tool_timeout <= 0:
            self.tool_timeout = None
        self.cors = expand_origins(self.cors)

    @property
    def allowed_origins(self) -> list[str]:
        """Another name for :attr:`cors` (the one source of allowed browser origins)."""
        return self.cors

    @allowed_origins.setter
    def allowed_origins(self, values: list[str]) -> None:
        self.cors = expand_origins(values)

    @property
    def cors_origins(self) -> frozenset[str]:
        """The allowed origins with presets expanded, as the guards match ``Origin`` (cached)."""
        return _origin_set(tuple(self.cors))

    @property
    def requires_key(self) -> bool:
        """Whether any API key is configured (then requests must carry one)."""
        return bool(self.api_key) or any(self.api_keys.values())

    def __repr__(self) -> str:  # never show a key
        key = "'***'" if self.api_key else "None"
        labels = sorted(self.api_keys)
        return (
            f"ServerConfig(host={self.host!r}, port={self.port}, api_key={key}, "
            f"api_keys={labels!r}, stateless={self.stateless})"
        )
