"""What the protocol core asks of whatever holds the tools, resources and prompts.

The registry in ``nbmcp.tools`` implements this; the protocol layer sees only this shape,
so it never imports the layers above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nbmcp.protocol.exchange import Exchange

__all__ = ["Provider"]


class Provider(Protocol):
    """The MCP features a server offers, answered as plain result dicts."""

    def may_stream(self, method: str, params: dict[str, Any]) -> bool:
        """Whether handling this request may send messages before its answer (progress, logs)."""
        ...

    def header_params(self, name: str) -> tuple[Any, ...]:
        """The ``x-mcp-header`` parameters of tool ``name`` (``nbmcp.tools.x_mcp_header.HeaderParam``
        items; empty for an unknown tool or one without any), for the ``Mcp-Param-*`` check."""
        ...

    def list_tools(self, version: str) -> dict[str, Any]:
        """The ``tools/list`` result for a client of that protocol version."""
        ...

    async def call_tool(self, name: str, arguments: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        """Run a tool; a tool's own failure is a result with ``isError``, not an exception."""
        ...

    def list_resources(self, version: str) -> dict[str, Any]:
        """The ``resources/list`` result."""
        ...

    def list_resource_templates(self, version: str) -> dict[str, Any]:
        """The ``resources/templates/list`` result."""
        ...

    async def read_resource(self, uri: str, exchange: Exchange) -> dict[str, Any]:
        """The ``resources/read`` result; raises ``ResourceNotFound`` for an unknown URI."""
        ...

    def list_prompts(self, version: str) -> dict[str, Any]:
        """The ``prompts/list`` result."""
        ...

    async def get_prompt(self, name: str, arguments: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
        """The ``prompts/get`` result."""
        ...

    async def complete(
        self, ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any]
    ) -> list[str]:
        """Suggested values for a prompt or resource-template argument."""
        ...
