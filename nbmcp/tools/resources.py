"""Resources (fixed URIs) and resource templates (URI patterns) backed by functions."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import orjson

from nbmcp.errors import InvalidParams, ToolDefinitionError
from nbmcp.protocol.versions import fit
from nbmcp.tools.calling import call_function, kind_of
from nbmcp.tools.content import Content, as_base64, jsonable
from nbmcp.tools.context import Context
from nbmcp.tools.docstrings import parse_doc
from nbmcp.tools.schema import ArgumentSpec, build_arguments
from nbmcp.tools.uri_templates import UriTemplate

if TYPE_CHECKING:
    from nbmcp.protocol.exchange import Exchange

__all__ = ["Completions", "Resource", "contents_for"]

Completions = dict[str, "list[str] | Callable[..., Any]"]


def contents_for(uri: str, value: Any, mime_type: str | None) -> list[dict[str, Any]]:
    """``resources/read`` contents for what a resource function returned."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and "uri" in v for v in value):
        return value
    if isinstance(value, Content) and value.get("type") == "resource":
        return [value["resource"]]
    entry: dict[str, Any] = {"uri": uri}
    if isinstance(value, (bytes, bytearray)):
        entry["mimeType"] = mime_type or "application/octet-stream"
        entry["blob"] = as_base64(bytes(value))
    elif isinstance(value, str):
        entry["mimeType"] = mime_type or "text/plain"
        entry["text"] = value
    else:
        entry["mimeType"] = mime_type or "application/json"
        entry["text"] = orjson.dumps(jsonable(value)).decode()
    return [entry]


class Resource:
    """A resource or a resource template; ``uri`` with ``{...}`` makes a template."""

    def __init__(
        self,
        fn: Callable[..., Any],
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
    ) -> None:
        if not isinstance(uri, str) or ":" not in uri:
            raise ToolDefinitionError(f"resource URI {uri!r} needs a scheme, e.g. 'data://{uri}'")
        self.fn = fn
        self.uri = uri
        self.template = UriTemplate(uri)
        self.name: str = name or str(getattr(fn, "__name__", uri))
        doc = parse_doc(fn)
        self.title = title
        self.description = description if description is not None else doc.description
        self.mime_type = mime_type or (
            mimetypes.guess_type(uri)[0] if not self.template.is_template else None
        )
        self.size = size
        self.annotations = annotations
        self.icons = icons
        self.meta = meta
        self.completions = completions or {}
        self.kind = kind_of(fn)
        self.args: ArgumentSpec = build_arguments(fn, self.name, doc, Context, kind="resource")
        missing = [n for n in self.args.names if n not in self.template.names and n in self.args.required]
        if missing:
            raise ToolDefinitionError(
                f"resource {uri!r}: parameter(s) {', '.join(missing)} are not in the URI; "
                "name them as {param} in the URI or give them defaults"
            )
        unknown = [n for n in self.template.names if n not in self.args.names]
        if unknown:
            raise ToolDefinitionError(
                f"resource {uri!r}: the URI names {', '.join(unknown)} but the function has no such parameter"
            )

    @property
    def is_template(self) -> bool:
        """Whether this is a URI template rather than one fixed resource."""
        return self.template.is_template

    def definition(self, version: str) -> dict[str, Any]:
        """The entry in ``resources/list`` or ``resources/templates/list``."""
        entry: dict[str, Any] = {"uriTemplate" if self.is_template else "uri": self.uri, "name": self.name}
        for key, value in (
            ("title", self.title),
            ("description", self.description),
            ("mimeType", self.mime_type),
            ("size", self.size),
            ("annotations", self.annotations),
            ("icons", self.icons),
            ("_meta", self.meta),
        ):
            if value is not None:
                entry[key] = value
        return fit(entry, version)

    async def read(
        self, uri: str, variables: dict[str, str], exchange: Exchange, executor: Executor | None
    ) -> dict[str, Any]:
        """The ``resources/read`` result for ``uri``."""
        try:
            kwargs = self.args.validate(variables)
        except InvalidParams as exc:
            raise InvalidParams(f"resource {uri!r}: {exc.message}") from None
        if self.args.context_param is not None:
            kwargs[self.args.context_param] = Context(exchange, self.name)
        value = await call_function(self.fn, self.kind, kwargs, executor)
        return {"contents": contents_for(uri, value, self.mime_type)}
