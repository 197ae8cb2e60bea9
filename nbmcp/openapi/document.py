"""The state of one Action document while it is built, shared by the two layouts.

:mod:`nbmcp.openapi.build` (one operation per tool) and :mod:`nbmcp.openapi.envelope` (one
``callMCPTool`` operation) both fill a :class:`SchemaBuild`: its ``components``, the
``notes`` on what was adjusted, and the fitting of texts to ChatGPT's limits. It lives here,
below both, so that ``build`` can import ``envelope`` and neither imports the other back.
"""

from __future__ import annotations

import re
from typing import Any

from nbmcp.openapi import shapes
from nbmcp.openapi.convert import Components, cut_descriptions, to_openapi_30
from nbmcp.openapi.findings import Finding
from nbmcp.openapi.limits import MAX_PARAMETER_DESCRIPTION, MAX_SUMMARY
from nbmcp.tools import Tool

__all__ = ["SchemaBuild", "cut_text"]

_SPACES = re.compile(r"\s+")


def cut_text(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word and ending in ``…`` if cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > (limit - 1) * 0.6:
        head = head[:space]
    return head.rstrip(" ,;:-") + "…"


def _first_sentence(text: str) -> str:
    paragraph = _SPACES.sub(" ", text.strip().split("\n\n", 1)[0]).strip()
    match = re.search(r"(?<=[.!?])\s", paragraph)
    return paragraph[: match.start()] if match else paragraph


class SchemaBuild:
    """State of one document being built: its components, and notes on what was fitted."""

    def __init__(self, v30: bool, fit: bool) -> None:
        self.v30 = v30
        self.fit = fit
        self.notes: list[Finding] = []
        self.components = Components()
        self._error_ref: str | None = None
        self._output_ref: str | None = None

    def schema(
        self, schema: dict[str, Any], where: str, what: str, *, convert: bool = True
    ) -> dict[str, Any]:
        """A tool schema made ready: descriptions fitted, ``$defs`` hoisted, 3.0 if asked."""
        if self.fit:

            def noted(path: str) -> None:
                self.notes.append(
                    Finding(
                        "warning",
                        "parameter-description-cut",
                        where,
                        f"the {what} description at {path} was longer than {MAX_PARAMETER_DESCRIPTION} "
                        f"characters (ChatGPT's limit) and was cut: shorten it in the docstring",
                    )
                )

            schema = cut_descriptions(schema, MAX_PARAMETER_DESCRIPTION, cut_text, noted)
        root = self.components.add(schema)
        return self.convert(root) if convert else root

    def convert(self, schema: Any) -> Any:
        """``schema`` in the document's dialect: rewritten to 3.0 for a 3.0 document, else as is."""
        return to_openapi_30(schema) if self.v30 else schema

    @property
    def error_ref(self) -> str:
        """The ``$ref`` of the shared ``Error`` schema, added to the components on first use."""
        if self._error_ref is None:
            issue = self.components.put("ValidationIssue", shapes.validation_issue_schema())
            self._error_ref = self.components.put("Error", shapes.error_schema(issue))
        return self._error_ref

    @property
    def output_ref(self) -> str:
        """The ``$ref`` of ``ToolOutput`` (for tools with no output schema), added on first use."""
        if self._output_ref is None:
            media = self.components.put("Media", shapes.media_schema())
            self._output_ref = self.components.put("ToolOutput", shapes.tool_output_schema(media))
        return self._output_ref

    def texts(self, tool: Tool, where: str) -> tuple[str, str | None]:
        """(summary, description) of a tool's operation."""
        description = (tool.description or "").strip()
        title = (tool.title or "").strip()
        if not description and not title:
            self.notes.append(
                Finding(
                    "warning",
                    "no-description",
                    where,
                    f"tool {tool.name!r} has no docstring: ChatGPT picks tools by their descriptions, "
                    "so add one saying what it does and when to use it",
                )
            )
            return tool.name, None
        summary = title or _first_sentence(description)
        if not self.fit:
            return summary, (description if description and description != summary else None)
        if len(summary) > MAX_SUMMARY:
            summary = cut_text(summary, MAX_SUMMARY)
        if not description or description == summary:
            return summary, None
        if len(description) > MAX_SUMMARY:
            self.notes.append(
                Finding(
                    "warning",
                    "description-cut",
                    where,
                    f"the docstring is {len(description)} characters; ChatGPT allows {MAX_SUMMARY}, so the "
                    f"description was cut to {MAX_SUMMARY}: say what the tool does in the first "
                    f"{MAX_SUMMARY} characters (argument details belong in the Args section)",
                )
            )
            description = cut_text(description, MAX_SUMMARY)
        return summary, description

    def responses(self, ok: dict[str, Any], auth: bool) -> dict[str, Any]:
        """One operation's responses: ``ok`` as 200, the rest pointing at :meth:`shared_responses`."""
        out: dict[str, Any] = {"200": ok}
        out["400"] = {"$ref": "#/components/responses/ToolError"}
        out["422"] = {"$ref": "#/components/responses/InvalidArguments"}
        if auth:
            out["401"] = {"$ref": "#/components/responses/Unauthorized"}
        out["default"] = {"$ref": "#/components/responses/Error"}
        return out

    def shared_responses(self, auth: bool) -> dict[str, Any]:
        """``components/responses``: the error answers every per-tool operation refers to."""

        def body(description: str) -> dict[str, Any]:
            return {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": self.error_ref}}},
            }

        out = {
            "ToolError": body(
                "The tool ran and failed (it raised an exception or timed out); `error` holds its "
                "message. Sent as 400 so that ChatGPT hands the message to the model."
            ),
            "InvalidArguments": body(
                "The arguments do not fit the tool's input schema; `detail` lists each problem."
            ),
            "Error": body(
                "Any other refusal: unknown tool (404), body too large (413), body not JSON (415), "
                "Host or Origin not allowed (421, 403)."
            ),
        }
        if auth:
            out["Unauthorized"] = body("Missing or wrong API key.")
        return out
