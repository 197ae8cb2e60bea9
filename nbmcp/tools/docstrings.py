"""Descriptions from docstrings (Google, NumPy and reST styles, via docstring-parser)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import docstring_parser

__all__ = ["DocInfo", "parse_doc"]


@dataclass
class DocInfo:
    """The parts of a docstring a tool needs."""

    description: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def parse_doc(fn: Any) -> DocInfo:
    """Split ``fn``'s docstring into its prose and per-parameter descriptions."""
    doc = inspect.getdoc(fn)
    if not doc:
        return DocInfo()
    try:
        parsed = docstring_parser.parse(doc)
    except docstring_parser.ParseError:
        return DocInfo(description=doc.strip())
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    params = {p.arg_name: p.description.strip() for p in parsed.params if p.description}
    description = "\n\n".join(parts).strip() if parts else None
    if not params and not parts:
        description = doc.strip()
    return DocInfo(description=description or None, params=params)
