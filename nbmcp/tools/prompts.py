"""Prompts: functions that return the messages a client puts in front of its model."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from nbmcp.errors import InvalidParams
from nbmcp.protocol.versions import fit
from nbmcp.tools.calling import call_function, kind_of
from nbmcp.tools.content import Content, text, to_content
from nbmcp.tools.context import Context
from nbmcp.tools.docstrings import parse_doc
from nbmcp.tools.resources import Completions
from nbmcp.tools.schema import build_arguments
from nbmcp.tools.tool import validate_name

if TYPE_CHECKING:
    from nbmcp.protocol.exchange import Exchange

__all__ = ["Prompt", "assistant", "user"]


def user(content: str | Content | list[Content]) -> dict[str, Any]:
    """A prompt message from the user (text or content blocks)."""
    return _message("user", content)


def assistant(content: str | Content | list[Content]) -> dict[str, Any]:
    """A prompt message from the assistant."""
    return _message("assistant", content)


def _message(role: str, content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        content = text(content)
    return {"role": role, "content": content}


def _to_messages(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, (list, tuple)) else [value]
    messages: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict) and "role" in item and not isinstance(item, Content):
            messages.append(_message(str(item["role"]), item.get("content", "")))
        elif isinstance(item, (str, Content)):
            messages.append(_message("user", item))
        else:
            messages.extend(_message("user", block) for block in to_content(item)[0])
    return messages


class Prompt:
    """A registered prompt template."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        icons: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Completions | None = None,
    ) -> None:
        self.fn = fn
        self.name = validate_name(name or str(getattr(fn, "__name__", "")), "prompt")
        doc = parse_doc(fn)
        self.title = title
        self.description = description if description is not None else doc.description
        self.icons = icons
        self.meta = meta
        self.completions = completions or {}
        self.kind = kind_of(fn)
        self.args = build_arguments(fn, self.name, doc, Context, kind="prompt")
        self._arguments = []
        for arg in self.args.names:
            entry: dict[str, Any] = {"name": arg, "required": arg in self.args.required}
            if arg in self.args.descriptions:
                entry["description"] = self.args.descriptions[arg]
            self._arguments.append(entry)

    def definition(self, version: str) -> dict[str, Any]:
        """The entry in ``prompts/list``."""
        entry: dict[str, Any] = {"name": self.name}
        for key, value in (
            ("title", self.title),
            ("description", self.description),
            ("icons", self.icons),
            ("_meta", self.meta),
        ):
            if value is not None:
                entry[key] = value
        entry["arguments"] = self._arguments
        return fit(entry, version)

    async def render(
        self, arguments: dict[str, Any], exchange: Exchange, executor: Executor | None
    ) -> dict[str, Any]:
        """The ``prompts/get`` result."""
        try:
            kwargs = self.args.validate(arguments)
        except InvalidParams as exc:
            raise InvalidParams(f"prompt {self.name!r}: {exc.message}") from None
        if self.args.context_param is not None:
            kwargs[self.args.context_param] = Context(exchange, self.name)
        value = await call_function(self.fn, self.kind, kwargs, executor)
        result: dict[str, Any] = {"messages": _to_messages(value)}
        if self.description:
            result["description"] = self.description
        return result
