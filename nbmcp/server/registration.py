"""Registration: the decorators and methods that put tools, resources and prompts on a server.

A mixin of :class:`~nbmcp.server.MCPServer`; it only reads the server's registry and engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, overload

from nbmcp.protocol import Engine
from nbmcp.tools import Prompt, Registry, Resource, Tool
from nbmcp.tools.resources import Completions

__all__ = ["Registration"]

F = TypeVar("F", bound=Callable[..., Any])


class Registration:
    """``tool``, ``resource``, ``prompt`` and friends (see :class:`~nbmcp.server.MCPServer`)."""

    registry: Registry
    engine: Engine

    @overload
    def tool(self, fn: F, /) -> F: ...

    @overload
    def tool(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        open_world: bool | None = None,
        replace: bool = False,
        meta: dict[str, Any] | None = None,
        icons: list[dict[str, Any]] | None = None,
        input_schema: dict[str, Any] | None = None,
        scopes: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Callable[[F], F]: ...

    def tool(self, fn: Any = None, /, **options: Any) -> Any:
        """Register a function as a tool: ``@server.tool`` or ``@server.tool(name=..., read_only=True)``.

        The input schema comes from the type hints, descriptions from the docstring. A
        signature that cannot be served raises :class:`~nbmcp.ToolDefinitionError` here.
        ``scopes=["write"]``: an OAuth token must carry them to call it (403 otherwise; the
        tool stays listed); API keys are not subject to scopes.
        ``headers={"region": "Region"}``: clients of 2026-07-28 mirror ``region`` into the
        ``Mcp-Param-Region`` HTTP header (for gateways that route on it); the server rejects a
        call whose header disagrees with the body. Never mark secrets: intermediaries see headers.
        """
        if fn is not None:
            self.add_tool(fn, **options)
            return fn

        def decorate(func: F) -> F:
            self.add_tool(func, **options)
            return func

        return decorate

    def add_tool(self, fn: Callable[..., Any], *, replace: bool = False, **options: Any) -> Tool:
        """Register ``fn`` (or a prepared :class:`Tool`) and return the :class:`Tool`."""
        tool = fn if isinstance(fn, Tool) else Tool.from_function(fn, **options)
        return self.registry.add_tool(tool, replace=replace)

    def remove_tool(self, name: str) -> bool:
        """Unregister a tool; connected clients are told the list changed."""
        return self.registry.remove_tool(name)

    def _tool_scopes(self) -> set[str]:
        """Every scope some tool asks for (listed in the RFC 9728 metadata)."""
        return {s for tool in list(self.registry.tools.values()) for s in tool.scopes}

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The registered tools by name (read-only)."""
        return MappingProxyType(self.registry.tools)

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        annotations: dict[str, Any] | None = None,
        icons: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Completions | None = None,
        replace: bool = False,
    ) -> Callable[[F], F]:
        """Register a resource: ``@server.resource("data://config")``.

        A URI with ``{name}`` parts is a template whose parts are the function's
        parameters (``@server.resource("weather://{city}")``). ``completions`` maps a
        parameter to a list of values or a function ``(prefix) -> list``.
        """

        def decorate(func: F) -> F:
            self.registry.add_resource(
                Resource(
                    func,
                    uri,
                    name=name,
                    title=title,
                    description=description,
                    mime_type=mime_type,
                    size=size,
                    annotations=annotations,
                    icons=icons,
                    meta=meta,
                    completions=completions,
                ),
                replace=replace,
            )
            return func

        return decorate

    def prompt(
        self,
        name: str | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        icons: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Completions | None = None,
        replace: bool = False,
    ) -> Callable[[F], F]:
        """Register a prompt: ``@server.prompt()``; it returns a string or a list of messages."""

        def decorate(func: F) -> F:
            self.registry.add_prompt(
                Prompt(
                    func,
                    name=name,
                    title=title,
                    description=description,
                    icons=icons,
                    meta=meta,
                    completions=completions,
                ),
                replace=replace,
            )
            return func

        return decorate

    def notify_resource_updated(self, uri: str) -> None:
        """Tell clients subscribed to ``uri`` that it changed (from any thread)."""
        self.engine.call_soon(self.engine.notify_resource_updated, uri)
