"""``ActionSchemas``: the live Action schema of one server, rebuilt only when its tools change.

A server keeps one. ``GET /openapi.json``, ``nbmcp schema`` and ``%mcp schema`` all ask it;
it builds the document, runs the checker, and keeps the result (and its JSON bytes) until
``Registry.on_change`` says the tools changed, so a tool added or re-registered shows up on
the very next request while repeated requests cost a dictionary lookup.
"""

from __future__ import annotations

import threading
from typing import Any

from nbmcp.config import ServerConfig
from nbmcp.openapi.build import build_schema, normalize_server_url, normalize_version
from nbmcp.openapi.check import check_schema
from nbmcp.openapi.findings import Finding, sort_findings
from nbmcp.openapi.limits import TIMEOUT_SECONDS
from nbmcp.openapi.output import dumps
from nbmcp.openapi.report import SchemaReport
from nbmcp.openapi.security import oauth_from
from nbmcp.protocol import ServerInfo
from nbmcp.tools import Registry

__all__ = ["ActionSchemas"]

_KEEP = 32


class ActionSchemas:
    """Builds, checks and caches the Action schema of one registry."""

    def __init__(self, registry: Registry, info: ServerInfo, config: ServerConfig) -> None:
        self.registry = registry
        self.info = info
        self.config = config
        self._lock = threading.Lock()
        self._generation = 0
        self._reports: dict[tuple[Any, ...], SchemaReport] = {}
        self._encoded: dict[tuple[Any, ...], bytes] = {}
        registry.on_change(self._changed)

    def _changed(self, kind: str) -> None:
        if kind != "tools":
            return
        with self._lock:
            self._generation += 1
            self._reports.clear()
            self._encoded.clear()

    def auth_style(self, auth: str | None = None) -> str:
        """The security scheme to describe: ``auth`` if given, else what the config requires."""
        if auth is not None:
            return auth
        if getattr(self.config, "oauth", None) is not None:
            return "oauth"
        return "header" if self.config.requires_key else "none"

    def server_url(self, url: str | None = None, local_url: str | None = None) -> str | None:
        """``url`` if given, else the public URL (a tunnel's), else ``local_url``."""
        chosen = url or self.config.public_url or local_url
        return normalize_server_url(chosen) if chosen else None

    def report(
        self,
        *,
        url: str | None = None,
        local_url: str | None = None,
        openapi: str = "3.1.0",
        envelope: bool = False,
        auth: str | None = None,
        fit: bool = True,
    ) -> SchemaReport:
        """The schema and its findings (cached until the tools change).

        Args:
            url: The server URL to name (``--url``); default: the public URL, else ``local_url``.
            openapi: ``"3.1.0"`` or ``"3.0"``.
            envelope: The single-operation JSON-RPC form.
            auth: ``"none"``, ``"header"``, ``"bearer"`` or ``"oauth"``; default: from the config.
            fit: Cut and rename to fit ChatGPT (``False``: show what the raw tools break).

        Raises:
            SchemaError: an unknown version or auth style, or a bad URL.
        """
        key = self._key(url, local_url, openapi, envelope, auth, fit)
        with self._lock:
            cached = self._reports.get(key)
            generation = self._generation
        if cached is not None:
            return cached
        doc, notes = build_schema(
            list(self.registry.tools.values()),
            title=self.info.title or self.info.name,
            version=self.info.version,
            description=self.info.instructions,
            server_url=key[0],
            openapi=key[1],
            envelope=envelope,
            auth=key[3],
            oauth=oauth_from(getattr(self.config, "oauth", None)),
            fit=fit,
        )
        report = SchemaReport(doc, sort_findings([*notes, *check_schema(doc), *self._server_notes()]))
        with self._lock:
            if generation == self._generation:
                if len(self._reports) >= _KEEP:
                    self._reports.clear()
                self._reports[key] = report
        return report

    def _key(
        self,
        url: str | None,
        local_url: str | None,
        openapi: str,
        envelope: bool,
        auth: str | None,
        fit: bool,
    ) -> tuple[Any, ...]:
        return (
            self.server_url(url, local_url),
            normalize_version(openapi),
            envelope,
            self.auth_style(auth),
            fit,
        )

    def encoded(
        self,
        fmt: str = "json",
        *,
        url: str | None = None,
        local_url: str | None = None,
        openapi: str = "3.1.0",
        envelope: bool = False,
        auth: str | None = None,
        fit: bool = True,
    ) -> bytes:
        """The schema as JSON (compact) or YAML bytes, for ``GET /openapi.json``."""
        key = (fmt, *self._key(url, local_url, openapi, envelope, auth, fit))
        with self._lock:
            generation = self._generation
            cached = self._encoded.get(key)
        if cached is not None:
            return cached
        report = self.report(
            url=url, local_url=local_url, openapi=openapi, envelope=envelope, auth=auth, fit=fit
        )
        body = dumps(report.document, fmt, pretty=fmt != "json").encode()
        with self._lock:
            if generation == self._generation:
                if len(self._encoded) >= _KEEP:
                    self._encoded.clear()
                self._encoded[key] = body
        return body

    def _server_notes(self) -> list[Finding]:
        timeout = self.config.tool_timeout
        if timeout and timeout <= TIMEOUT_SECONDS:
            return []
        limit = f"up to {timeout:g} s" if timeout else "without a time limit"
        return [
            Finding(
                "info",
                "tool-timeout",
                "server",
                f"tools may run {limit}, but ChatGPT gives up on a call after {TIMEOUT_SECONDS:g} s: "
                f"MCPServer(tool_timeout={TIMEOUT_SECONDS:g}) makes a slow call answer with a clear "
                "error the model can read instead",
            )
        ]
