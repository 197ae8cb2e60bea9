"""The tools, resources and prompts of one server, and the MCP answers built from them.

It implements :class:`nbmcp.protocol.Provider`. List answers are built once and kept until
the registry changes; every change is announced to listeners (the server turns that into
``notifications/*/list_changed``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import Any

from nbmcp.config import ServerConfig
from nbmcp.errors import DuplicateNameError, InvalidParams, ResourceNotFound, UnknownToolError
from nbmcp.monitor import CallRecord, Monitor
from nbmcp.monitor.output import capture
from nbmcp.principal import Principal
from nbmcp.protocol.exchange import Exchange, Pending
from nbmcp.protocol.mrtr import InputRequired
from nbmcp.protocol.session import Session
from nbmcp.tools.prompts import Prompt
from nbmcp.tools.resources import Resource
from nbmcp.tools.tool import Tool
from nbmcp.tools.x_mcp_header import HeaderParam

__all__ = ["Registry"]

ChangeListener = Callable[[str], None]
"""Called with ``"tools"``, ``"resources"`` or ``"prompts"`` after that list changed."""


class Registry:
    """Holds what a server offers; answers the MCP list, call, read and get methods."""

    def __init__(
        self,
        monitor: Monitor | None = None,
        *,
        config: ServerConfig | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.monitor = monitor if monitor is not None else Monitor()
        self.config = config if config is not None else ServerConfig()
        """Where ``tool_timeout`` and ``mask_error_details`` are read, call by call."""
        self.executor = executor
        self._pending = Pending()
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.prompts: dict[str, Prompt] = {}
        self._listeners: list[ChangeListener] = []
        self._cache: dict[str, dict[str, Any]] = {}
        self.scoped = False
        """Whether any tool asks for OAuth scopes (``@server.tool(scopes=[...])``): when none
        does, a token's call skips the per-tool scope check."""
        self._scoped_tools = 0  # how many do: kept per change, so registering stays O(1)

    # -- changes --------------------------------------------------------------------------

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener(kind)`` after every change to a list."""
        self._listeners.append(listener)

    def _count_scoped(self, tool: Tool | None, sign: int) -> None:
        if tool is not None and tool.scopes:
            self._scoped_tools += sign
            self.scoped = self._scoped_tools > 0

    def _changed(self, kind: str) -> None:
        self._cache = {k: v for k, v in self._cache.items() if not k.startswith(kind)}
        for listener in self._listeners:
            listener(kind)

    def add_tool(self, tool: Tool, *, replace: bool = False) -> Tool:
        """Register a tool; a taken name raises unless ``replace``."""
        if tool.name in self.tools and not replace:
            raise DuplicateNameError(
                f"a tool named {tool.name!r} is registered already; pass replace=True or choose another name"
            )
        self._count_scoped(self.tools.get(tool.name), -1)
        self.tools[tool.name] = tool
        self._count_scoped(tool, +1)
        self._changed("tools")
        return tool

    def remove_tool(self, name: str) -> bool:
        """Unregister a tool; ``False`` if there was none of that name."""
        removed = self.tools.pop(name, None)
        if removed is None:
            return False
        self._count_scoped(removed, -1)
        self._changed("tools")
        return True

    def add_resource(self, resource: Resource, *, replace: bool = False) -> Resource:
        """Register a resource or template (keyed by its URI)."""
        if resource.uri in self.resources and not replace:
            raise DuplicateNameError(f"a resource with URI {resource.uri!r} is registered already")
        self.resources[resource.uri] = resource
        self._changed("resources")
        return resource

    def remove_resource(self, uri: str) -> bool:
        """Unregister a resource or template."""
        if self.resources.pop(uri, None) is None:
            return False
        self._changed("resources")
        return True

    def add_prompt(self, prompt: Prompt, *, replace: bool = False) -> Prompt:
        """Register a prompt."""
        if prompt.name in self.prompts and not replace:
            raise DuplicateNameError(f"a prompt named {prompt.name!r} is registered already")
        self.prompts[prompt.name] = prompt
        self._changed("prompts")
        return prompt

    def remove_prompt(self, name: str) -> bool:
        """Unregister a prompt."""
        if self.prompts.pop(name, None) is None:
            return False
        self._changed("prompts")
        return True

    # -- Provider -------------------------------------------------------------------------

    def header_params(self, name: str) -> tuple[HeaderParam, ...]:
        """The ``x-mcp-header`` parameters of tool ``name`` (empty for an unknown tool)."""
        tool = self.tools.get(name)
        return () if tool is None else tool.header_params

    def may_stream(self, method: str, params: dict[str, Any]) -> bool:
        """Tools that take a ``Context`` or yield chunks may talk to the client mid-call."""
        if method == "tools/call":
            tool = self.tools.get(str(params.get("name")))
            return tool is not None and (
                tool.args.context_param is not None or tool.kind.value.endswith("generator")
            )
        if method == "prompts/get":
            prompt = self.prompts.get(str(params.get("name")))
            return prompt is not None and prompt.args.context_param is not None
        return method == "resources/read"

    def _cached(self, key: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = build()
        return cached

    def list_tools(self, version: str) -> dict[str, Any]:
        """The ``tools/list`` result (built once per registry state and version)."""
        return self._cached(
            "tools:" + version, lambda: {"tools": [t.definition(version) for t in list(self.tools.values())]}
        )

    async def call_tool(self, name: str, arguments: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        """Run a tool; its call record (``exchange.record``) is in the monitor from start to end.

        Every door ends here: MCP requests through the engine, the REST facade and the
        notebook through :meth:`call_local`.

        Raises:
            UnknownToolError: no tool of that name.
        """
        tool = self.tools.get(name)
        if tool is None:
            raise UnknownToolError(f"Unknown tool: {name}")
        session = exchange.session
        info = session.client_info
        client = (
            {"name": str(info.get("name", "")), "version": str(info.get("version", ""))} if info else None
        )
        record = CallRecord(
            name,
            arguments,
            transport=exchange.transport,
            session_id=session.id,
            principal=session.principal.name if session.principal is not None else None,
            client=client,
        )
        exchange.record = record
        self.monitor.start(record)
        with capture() as printed:
            try:
                result = await tool.run(
                    arguments,
                    exchange,
                    executor=self.executor,
                    timeout=self.config.tool_timeout,
                    mask_errors=self.config.mask_error_details,
                    debug=self.config.debug,
                )
            except InputRequired as asked:  # a 2026-07-28 round ends: the client answers, then retries
                keys = ", ".join(asked.result.get("inputRequests", {}))
                record.finish(
                    {"content": [{"type": "text", "text": f"input required: {keys}"}], "isError": False}
                )
                self.monitor.finish(record)
                raise
            except BaseException as exc:  # cancelled, or the server is stopping: still closed
                why = "cancelled" if isinstance(exc, asyncio.CancelledError) else f"failed: {exc!r}"
                record.finish({"content": [{"type": "text", "text": f"call {why}"}], "isError": True})
                self.monitor.finish(record)
                raise
        record.finish(result, printed.getvalue())
        self.monitor.finish(record)
        return result

    async def call_local(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        transport: str,
        headers: Mapping[str, str] | None = None,
        principal: Principal | None = None,
    ) -> tuple[dict[str, Any], CallRecord]:
        """Call a tool for a caller without an MCP session (the REST facade, the notebook).

        Returns the MCP ``tools/call`` result and the call's record. Must run on an event
        loop (the server's, or any, when the server is not running).
        """
        session = Session(None, principal=principal)
        exchange = Exchange(session, None, None, headers or {}, None, self._pending, transport=transport)
        result = await self.call_tool(name, arguments, exchange)
        record: CallRecord = exchange.record
        return result, record

    def _resources_of(self, templates: bool) -> Iterable[Resource]:
        return [r for r in list(self.resources.values()) if r.is_template == templates]

    def list_resources(self, version: str) -> dict[str, Any]:
        """The ``resources/list`` result."""
        return self._cached(
            "resources:list:" + version,
            lambda: {"resources": [r.definition(version) for r in self._resources_of(False)]},
        )

    def list_resource_templates(self, version: str) -> dict[str, Any]:
        """The ``resources/templates/list`` result."""
        return self._cached(
            "resources:templates:" + version,
            lambda: {"resourceTemplates": [r.definition(version) for r in self._resources_of(True)]},
        )

    async def read_resource(self, uri: str, exchange: Exchange) -> dict[str, Any]:
        """Read a fixed resource, or the first template that matches ``uri``."""
        resource = self.resources.get(uri)
        if resource is not None and not resource.is_template:
            return await resource.read(uri, {}, exchange, self.executor)
        for candidate in self._resources_of(True):
            variables = candidate.template.match(uri)
            if variables is not None:
                return await candidate.read(uri, variables, exchange, self.executor)
        raise ResourceNotFound(f"Resource not found: {uri}", {"uri": uri})

    def list_prompts(self, version: str) -> dict[str, Any]:
        """The ``prompts/list`` result."""
        return self._cached(
            "prompts:" + version,
            lambda: {"prompts": [p.definition(version) for p in list(self.prompts.values())]},
        )

    async def get_prompt(self, name: str, arguments: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        """Render a prompt."""
        prompt = self.prompts.get(name)
        if prompt is None:
            raise InvalidParams(f"Unknown prompt: {name}")
        return await prompt.render(arguments, exchange, self.executor)

    async def complete(
        self, ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any]
    ) -> list[str]:
        """Completion values for a prompt or resource-template argument, filtered by prefix."""
        kind = ref.get("type")
        if kind == "ref/prompt":
            prompt = self.prompts.get(str(ref.get("name")))
            if prompt is None:
                raise InvalidParams(f"Unknown prompt: {ref.get('name')}")
            completions = prompt.completions
        elif kind == "ref/resource":
            resource = self.resources.get(str(ref.get("uri")))
            if resource is None:
                raise InvalidParams(f"Unknown resource template: {ref.get('uri')}")
            completions = resource.completions
        else:
            raise InvalidParams(f"ref.type must be 'ref/prompt' or 'ref/resource', not {kind!r}")
        source = completions.get(str(argument.get("name")))
        value = str(argument.get("value", ""))
        if source is None:
            return []
        if callable(source):
            known = context.get("arguments") if isinstance(context.get("arguments"), dict) else {}
            found = source(value, known) if len(inspect.signature(source).parameters) > 1 else source(value)
            if inspect.isawaitable(found):
                found = await found
            return [str(v) for v in found]
        return [str(v) for v in source if str(v).startswith(value)]
