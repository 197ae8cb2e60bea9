"""Descriptions from docstrings (Google, NumPy and reST styles, via docstring-parser)."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DocInfo", "parse_doc"]

_SECTIONS = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Returns?|Yields?|Raises|Examples?|Notes?|Attributes|"
    r"Keyword Args|Other Parameters)\s*:?\s*$|^\s*[-=]{3,}\s*$|:param\s|:returns?:|@param",
    re.MULTILINE,
)


@dataclass
class DocInfo:
    """The parts of a docstring a tool needs."""

    description: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def _style(doc: str, first: str) -> Any:
    """The one style a docstring is written in, from its first section marker, so one parser
    runs instead of all of them (the parser's ``AUTO`` tries every style: most of a tool's
    registration time). ``AUTO`` when the markers are ambiguous."""
    from docstring_parser import DocstringStyle

    if ":param" in doc or ":returns" in doc or ":return:" in doc:
        return DocstringStyle.REST
    if "@param" in doc:
        return DocstringStyle.EPYDOC
    if re.search(r"^\s*[-=]{3,}\s*$", doc, re.MULTILINE):
        return DocstringStyle.NUMPYDOC
    if first.strip().endswith(":"):
        return DocstringStyle.GOOGLE
    return DocstringStyle.AUTO


def parse_doc(fn: Any) -> DocInfo:
    """Split ``fn``'s docstring into its prose and per-parameter descriptions."""
    doc = inspect.getdoc(fn)
    if not doc:
        return DocInfo()
    found = _SECTIONS.search(doc)
    if found is None:
        return DocInfo(description=doc.strip())  # plain prose: nothing for the parser to split
    import docstring_parser  # only for docstrings with sections

    try:
        parsed = docstring_parser.parse(doc, _style(doc, found.group(0)))
    except docstring_parser.ParseError:
        return DocInfo(description=doc.strip())
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    params = {p.arg_name: p.description.strip() for p in parsed.params if p.description}
    description = "\n\n".join(parts).strip() if parts else None
    if not params and not parts:
        description = doc.strip()
    return DocInfo(description=description or None, params=params)
