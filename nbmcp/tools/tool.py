"""``Tool``: a Python function with its MCP definition, ready to be called by clients."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import orjson

from nbmcp.errors import InvalidParams, ToolDefinitionError, ToolError, traceback_text
from nbmcp.protocol.versions import fit, has_field
from nbmcp.tools.calling import Kind, call_function, kind_of
from nbmcp.tools.content import Content, is_explicit_content, text, to_content
from nbmcp.tools.context import Context
from nbmcp.tools.docstrings import parse_doc
from nbmcp.tools.schema import ArgumentSpec, OutputSpec, build_arguments, build_output
from nbmcp.tools.x_mcp_header import HeaderParam, header_params, with_headers

if TYPE_CHECKING:
    from nbmcp.protocol.exchange import Exchange

__all__ = ["Tool", "error_result", "validate_name", "validate_scopes"]

logger = logging.getLogger("nbmcp")

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 section 3.3 scope-token

if sys.version_info >= (3, 11):
    _timeout = asyncio.timeout
else:  # pragma: no cover - Python 3.10
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def _timeout(delay: float | None):  # type: ignore[no-untyped-def]
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("tool calls run inside a task")
        handle = asyncio.get_running_loop().call_later(delay, task.cancel) if delay else None
        try:
            yield
        except asyncio.CancelledError:
            raise asyncio.TimeoutError from None
        finally:
            if handle is not None:
                handle.cancel()


def validate_name(name: str, what: str = "tool") -> str:
    """Check a tool name against the MCP rule: 1-128 of ``A-Z a-z 0-9 _ - .``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ToolDefinitionError(
            f"{what} name {name!r} is not valid: use 1 to 128 letters, digits, '_', '-' or '.'"
        )
    return name


def validate_scopes(scopes: Any, tool: str) -> frozenset[str]:
    """A tool's OAuth scopes: a list of RFC 6749 scope tokens (no spaces, quotes or backslashes)."""
    if scopes is None:
        return frozenset()
    if isinstance(scopes, str) or not all(isinstance(s, str) and _SCOPE.match(s) for s in scopes):
        raise ToolDefinitionError(
            f"tool {tool!r}: scopes must be a list of scope names without spaces or quotes, e.g. ['write']"
        )
    return frozenset(scopes)


def error_result(message: str) -> dict[str, Any]:
    """A ``tools/call`` result that reports failure to the model."""
    return {"content": [text(message)], "isError": True}


def _chunk_message(chunk: Any) -> str:
    if isinstance(chunk, str):
        return chunk
    blocks, data = to_content(chunk)
    if data is not None or not blocks:
        return orjson.dumps(data).decode()
    return str(blocks[0].get("text", f"[{blocks[0].get('type')}]"))


class Tool:
    """A registered tool. Build with :meth:`from_function` (``@server.tool`` does)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str,
        description: str | None,
        args: ArgumentSpec,
        output: OutputSpec | None = None,
        *,
        title: str | None = None,
        annotations: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        icons: list[dict[str, Any]] | None = None,
        executor: Executor | None = None,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        self.fn = fn
        self.name = name
        self.description = description
        self.args = args
        self._output = output
        self.title = title
        self.annotations = annotations or {}
        self.meta = meta
        self.icons = icons
        self.executor = executor
        self._scopes = frozenset(scopes)
        self.kind = kind_of(fn)
        if self.kind in (Kind.GENERATOR, Kind.ASYNC_GENERATOR):
            self._output = OutputSpec()
        self._definitions: dict[str, dict[str, Any]] = {}
        self.header_params: tuple[HeaderParam, ...] = header_params(args.schema, tool=name)  # x-mcp-header

    @property
    def scopes(self) -> frozenset[str]:
        """OAuth scopes a token must carry to call this tool (API keys are not subject to them).

        Fixed at registration (register the tool again to change them): the server skips the
        per-call scope check when no tool has any.
        """
        return self._scopes

    @property
    def output(self) -> OutputSpec:
        """How results become ``structuredContent``; derived from the return annotation on
        first use (it never fails registration: an annotation with no JSON shape has none)."""
        if self._output is None:
            self._output = build_output(self.fn, self.name)
        return self._output

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        open_world: bool | None = None,
        meta: dict[str, Any] | None = None,
        icons: list[dict[str, Any]] | None = None,
        executor: Executor | None = None,
        input_schema: dict[str, Any] | None = None,
        scopes: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Tool:
        """Describe ``fn`` as a tool: schema from its hints, descriptions from its docstring.

        Args:
            input_schema: Advertise this JSON Schema instead of the generated one (arguments
                are still validated against the signature).
            scopes: OAuth scopes a token must carry to call the tool (``["write"]``); a
                token without them gets 403 ``insufficient_scope``. API keys are not subject
                to scopes.
            headers: ``{"region": "Region"}`` marks those properties ``x-mcp-header``: clients of
                2026-07-28 mirror them into ``Mcp-Param-Region``, checked against the body.

        Raises:
            ToolDefinitionError: the name, the signature or an ``x-mcp-header`` cannot be served.
        """
        if not callable(fn):
            raise ToolDefinitionError(f"a tool must be a function, not {type(fn).__name__}")
        tool_name = validate_name(name or str(getattr(fn, "__name__", "")))
        needed = validate_scopes(scopes, tool_name)
        doc = parse_doc(fn)
        args = build_arguments(fn, tool_name, doc, Context)
        if input_schema is not None:
            if not isinstance(input_schema, dict) or input_schema.get("type") != "object":
                raise ToolDefinitionError(f"tool {tool_name!r}: input_schema must be a JSON object schema")
            args.schema = dict(input_schema)
        args.schema = with_headers(args.schema, headers, tool=tool_name)
        hints = {
            "readOnlyHint": read_only,
            "destructiveHint": destructive,
            "idempotentHint": idempotent,
            "openWorldHint": open_world,
        }
        annotations = {k: v for k, v in hints.items() if v is not None}
        return cls(
            fn,
            tool_name,
            description if description is not None else doc.description,
            args,
            title=title,
            annotations=annotations,
            meta=meta,
            icons=icons,
            executor=executor,
            scopes=needed,
        )

    def definition(self, version: str) -> dict[str, Any]:
        """This tool's entry in ``tools/list`` for a client of ``version`` (cached)."""
        cached = self._definitions.get(version)
        if cached is not None:
            return cached
        entry: dict[str, Any] = {"name": self.name}
        if self.title:
            entry["title"] = self.title
        if self.description:
            entry["description"] = self.description
        entry["inputSchema"] = self.args.schema
        if self.output.schema is not None:
            entry["outputSchema"] = self.output.schema
        annotations = dict(self.annotations)
        if self.title:
            annotations.setdefault("title", self.title)
        if annotations:
            entry["annotations"] = annotations
        if self.icons:
            entry["icons"] = self.icons
        if self.meta:
            entry["_meta"] = self.meta
        entry = fit(entry, version)  # drop what that revision does not know (versions.FIELD_SINCE)
        self._definitions[version] = entry
        return entry

    async def run(
        self,
        arguments: dict[str, Any],
        exchange: Exchange,
        *,
        executor: Executor | None = None,
        timeout: float | None = None,
        mask_errors: bool = False,
        debug: bool = False,
    ) -> dict[str, Any]:
        """Validate, call and convert; every failure becomes an ``isError`` result.

        With ``debug``, a raised exception's traceback follows its message as a second text block.
        """
        try:
            kwargs = self.args.validate(arguments)
        except InvalidParams as exc:
            return error_result(exc.message)
        if self.args.context_param is not None:
            kwargs[self.args.context_param] = Context(exchange, self.name)

        async def on_chunk(index: int, chunk: Any) -> None:
            await exchange.progress(index, None, _chunk_message(chunk))

        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with _timeout(timeout):
                value = await call_function(self.fn, self.kind, kwargs, self.executor or executor, on_chunk)
            return self.to_result(value, exchange.session.version)
        except ToolError as exc:
            return error_result(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if exchange.round is not None and exchange.round.refused(exc):
                raise  # 2026-07-28: a missing capability or a bad answer is the request's error
            if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) and deadline and loop.time() >= deadline:
                return error_result(f"Tool {self.name!r} timed out after {timeout:g} s")
            logger.info("nbmcp: tool %r raised %s: %s", self.name, type(exc).__name__, exc)
            if mask_errors:
                failed = error_result(f"Error calling tool {self.name!r}")
            else:
                failed = error_result(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            if debug:
                failed["content"].append(text(traceback_text(exc)))
            return failed

    def to_result(self, value: Any, version: str) -> dict[str, Any]:
        """The ``tools/call`` result for a return value."""
        if self.kind in (Kind.GENERATOR, Kind.ASYNC_GENERATOR):
            blocks: list[Content] = []
            for chunk in value:
                blocks.extend(to_content(chunk)[0])
            return {"content": blocks, "isError": False}
        if is_explicit_content(value) or (isinstance(value, str) and self.output.adapter is None):
            return {"content": to_content(value)[0], "isError": False}
        if self.output.adapter is not None:
            data = self.output.dump(value)
            blocks = [text(orjson.dumps(data).decode())]
            structured = {"result": data} if self.output.wrap else data
        else:
            blocks, data = to_content(value)
            structured = None if data is None else (data if isinstance(data, dict) else {"result": data})
        result: dict[str, Any] = {"content": blocks, "isError": False}
        if structured is not None and has_field(version, "structuredContent"):
            result["structuredContent"] = structured
        return result

    def __repr__(self) -> str:
        return f"<Tool {self.name!r} ({self.kind.value})>"
