"""``x-mcp-header``: tool parameters mirrored into ``Mcp-Param-{Name}`` HTTP headers (2026-07-28).

A tool's ``inputSchema`` may mark a property with ``"x-mcp-header": "Region"``; clients then
send its value as ``Mcp-Param-Region`` so load balancers and gateways can route on it without
reading the body, and the server checks the header against the body
(:func:`nbmcp.http.mcp_headers.check_params`). The spec (transports/streamable-http §Custom
Headers) makes a client drop a tool whose annotations break its rules, so nbmcp checks them
when the tool is registered and raises :class:`~nbmcp.ToolDefinitionError` instead of
serving a tool clients would silently hide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nbmcp.errors import ToolDefinitionError

__all__ = ["X_MCP_HEADER", "HeaderParam", "header_params", "with_headers"]

X_MCP_HEADER = "x-mcp-header"
"""The JSON Schema keyword naming the header a property is mirrored into."""

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
"""RFC 9110 §5.6.2 ``tchar``: a field name is ``1*tchar`` (so no CR, LF, space or control)."""

_TYPES = frozenset({"string", "integer", "boolean"})
"""The JSON types a mirrored property may have (``number`` is excluded by the spec)."""

# JSON Schema 2020-12 keywords whose values are schemas; crossing any of them leaves the
# "properties only" chain, so an annotation below them is not statically reachable.
# Data keywords (default, examples, const, enum) are never entered; $ref is never followed.
_ONE = frozenset(
    {
        "items",
        "contains",
        "additionalItems",
        "unevaluatedItems",
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "contentSchema",
    }
)
_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_MAP = frozenset({"patternProperties", "dependentSchemas", "$defs", "definitions"})


@dataclass(frozen=True, slots=True)
class HeaderParam:
    """One mirrored parameter: where its value sits in ``arguments`` and which header carries it."""

    path: tuple[str, ...]
    """The chain of ``properties`` keys from the schema root (``("region",)`` at top level)."""
    name: str
    """The ``x-mcp-header`` value as declared (``"Region"``); the header is ``Mcp-Param-Region``."""
    header: str
    """The header name in lower case, as ASGI servers hand it over: ``"mcp-param-region"``."""
    type: str
    """``"string"``, ``"integer"`` or ``"boolean"``: how the header value is compared."""


def header_params(input_schema: Any, *, tool: str | None = None) -> tuple[HeaderParam, ...]:
    """Every ``x-mcp-header`` in ``input_schema``, checked against the spec's rules.

    Args:
        input_schema: A tool's ``inputSchema`` (anything else has no annotations).
        tool: The tool's name, for the error message.

    Raises:
        ToolDefinitionError: an annotation is not a non-empty RFC 9110 token, repeats another
            (case-insensitively), sits on a property that is not a string, integer or boolean,
            or is not reachable from the root through ``properties`` alone (under ``items``,
            ``anyOf``/``oneOf``/``allOf``/``not``, ``if``/``then``/``else``, ``$defs``, ...).
    """
    where = f"tool {tool!r}" if tool else "inputSchema"
    found: list[HeaderParam] = []
    seen: dict[str, str] = {}
    # Breadth first, in declaration order; `path` is None once a non-`properties` keyword was
    # crossed, and `via` names that keyword for the message.
    queue: list[tuple[Any, tuple[str, ...] | None, str]] = [(input_schema, (), "")]
    for node, path, via in queue:
        if not isinstance(node, dict):
            continue
        if X_MCP_HEADER in node:
            param = _param(node, path, via, where)
            key = param.header
            if key in seen:
                raise ToolDefinitionError(
                    f"{where}: x-mcp-header {param.name!r} on property {_dotted(param.path)!r} repeats the "
                    f"one on {seen[key]!r} (header names are case-insensitive)"
                )
            seen[key] = _dotted(param.path)
            found.append(param)
        for keyword, value in node.items():
            crossed = via or keyword
            if keyword == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    queue.append((sub, None if path is None else (*path, str(prop)), via))
            elif keyword in _ONE:
                queue.append((value, None, crossed))
            elif keyword in _LIST and isinstance(value, list):
                queue.extend((sub, None, crossed) for sub in value)
            elif keyword in _MAP and isinstance(value, dict):
                queue.extend((sub, None, crossed) for sub in value.values())
    return tuple(found)


def _param(node: dict[str, Any], path: tuple[str, ...] | None, via: str, where: str) -> HeaderParam:
    """The :class:`HeaderParam` of one annotated schema position, or why it cannot be one."""
    value = node[X_MCP_HEADER]
    if path is None:
        raise ToolDefinitionError(
            f"{where}: x-mcp-header found under {via!r}; it may only sit on a property reached "
            "from the root through 'properties' alone"
        )
    if not path:
        raise ToolDefinitionError(f"{where}: x-mcp-header sits on the schema root; put it on a property")
    prop = _dotted(path)
    if not isinstance(value, str):
        # No repr of the value: it is arbitrary JSON (a huge int has no cheap repr).
        raise ToolDefinitionError(
            f"{where}: x-mcp-header on property {prop!r} must be a string, not {type(value).__name__}"
        )
    if not value or not _TCHAR.issuperset(value):
        raise ToolDefinitionError(
            f"{where}: x-mcp-header {value!r} on property {prop!r} is not a header name: use 1 or more "
            "letters, digits or !#$%&'*+-.^_`|~ (no spaces, CR or LF)"
        )
    kind = node.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        got = repr(kind) if isinstance(kind, str) else "no single type (an Optional or union?)"
        raise ToolDefinitionError(
            f"{where}: x-mcp-header {value!r} is on property {prop!r} of type {got}; only string, "
            "integer and boolean parameters can be mirrored into headers"
        )
    return HeaderParam(path, value, "mcp-param-" + value.lower(), kind)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def with_headers(schema: dict[str, Any], headers: Mapping[str, str] | None, *, tool: str) -> dict[str, Any]:
    """A copy of ``schema`` with ``"x-mcp-header": name`` on each named top-level property
    (``schema`` itself when ``headers`` is ``None``).

    Backs ``@server.tool(headers={"region": "Region"})``. Property dicts are copied, never
    changed in place (generated schemas may share them).

    Raises:
        ToolDefinitionError: ``headers`` is not a mapping, or names no property of the schema.
    """
    if headers is None:
        return schema
    if not isinstance(headers, Mapping):
        raise ToolDefinitionError(
            f"tool {tool!r}: headers must map parameter names to header names, e.g. {{'region': 'Region'}}"
        )
    properties = schema.get("properties")
    properties = dict(properties) if isinstance(properties, dict) else {}
    for param, name in headers.items():
        prop = properties.get(param)
        if not isinstance(prop, dict):
            known = ", ".join(map(str, properties)) or "none"
            raise ToolDefinitionError(
                f"tool {tool!r}: headers names {param!r}, which is not a parameter of the tool "
                f"(parameters: {known})"
            )
        properties[param] = {**prop, X_MCP_HEADER: name}
    return {**schema, "properties": properties}
