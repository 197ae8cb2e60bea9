"""``Finding``: one thing wrong with (or changed in) an Action schema, said so a user can act on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "Severity", "sort_findings"]

Severity = Literal["error", "warning", "info"]
"""``error``: ChatGPT rejects the schema or the operation; ``warning``: it works, but badly
or not from ChatGPT yet (e.g. an http URL); ``info``: something nbmcp adjusted for you."""

_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One finding of the checker (or a note from the generator about what it adjusted)."""

    severity: Severity
    code: str
    """A stable short name, e.g. ``too-many-operations``, ``operation-id``, ``summary-length``."""
    where: str
    """Where in the document: ``POST /tools/add``, ``servers``, ``components.schemas.Point``."""
    message: str
    """What is wrong and what to do about it."""

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form (for widgets and tools)."""
        return {"severity": self.severity, "code": self.code, "where": self.where, "message": self.message}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; otherwise in the order found."""
    return sorted(findings, key=lambda f: _RANK.get(f.severity, 3))
