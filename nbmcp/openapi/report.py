"""``SchemaReport``: a generated Action schema with the checker's findings, as text or as HTML.

This is what ``nbmcp schema`` prints and what ``%mcp schema`` shows: :meth:`SchemaReport.summary`
for a terminal, :func:`render_report` (also ``_repr_html_``) for a notebook: the findings, a
copy button, a download link and the schema itself. Nothing here imports IPython.
"""

from __future__ import annotations

import base64
import html
import secrets
from dataclasses import dataclass, field
from typing import Any

from nbmcp.openapi.findings import Finding
from nbmcp.openapi.output import dumps

__all__ = ["SchemaReport", "render_report"]

_METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head", "trace"})
_COLORS = {"error": "#b3261e", "warning": "#8a5a00", "info": "#555"}


@dataclass
class SchemaReport:
    """A ChatGPT Action schema and everything found wrong with it (or adjusted in it)."""

    document: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def openapi(self) -> str:
        """The document's OpenAPI version (``3.1.0`` or ``3.0.3``)."""
        return str(self.document.get("openapi", ""))

    @property
    def errors(self) -> list[Finding]:
        """Limits broken: ChatGPT rejects the schema or an operation."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Works, but not well or not from ChatGPT yet (e.g. an http URL)."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors

    @property
    def operations(self) -> int:
        """How many operations the document has."""
        paths = self.document.get("paths") or {}
        return sum(1 for item in paths.values() if isinstance(item, dict) for k in item if k in _METHODS)

    @property
    def server_url(self) -> str | None:
        """``servers[0].url``, if any."""
        servers = self.document.get("servers") or []
        return str(servers[0].get("url")) if servers and isinstance(servers[0], dict) else None

    def text(self, fmt: str = "json") -> str:
        """The schema as ``"json"`` or ``"yaml"`` text."""
        return dumps(self.document, fmt)

    def summary(self) -> str:
        """A few lines for a terminal: what the schema is, then each finding."""
        counts = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        head = (
            f"ChatGPT Action schema: {self.operations} operation(s), OpenAPI {self.openapi}, "
            f"server {self.server_url or '(none)'}: {counts}"
        )
        if not self.findings:
            return (
                head + "\n  ready: paste it into ChatGPT (Configure > Actions > Create new action > Schema)"
            )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for widgets: the document, the findings and ``ok``."""
        return {"document": self.document, "findings": [f.as_dict() for f in self.findings], "ok": self.ok}

    def to_html(self, fmt: str = "json") -> str:
        """HTML for a notebook (see :func:`render_report`)."""
        return render_report(self, fmt)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.summary()


def render_report(report: SchemaReport, fmt: str = "json") -> str:
    """The report as self-contained HTML: findings, a copy button, a download link, the schema.

    ``%mcp schema`` displays this (``IPython.display.HTML(render_report(report))``); it needs
    no extension and no network.
    """
    uid = secrets.token_hex(4)
    text = report.text(fmt)
    name = f"openapi.{fmt}"
    mime = "application/yaml" if fmt == "yaml" else "application/json"
    data = base64.b64encode(text.encode()).decode()
    esc = html.escape
    head = (
        f"<b>ChatGPT Action schema</b> &middot; {report.operations} operation(s) &middot; "
        f"OpenAPI {esc(report.openapi)} &middot; server <code>{esc(report.server_url or '(none)')}</code>"
    )
    if report.findings:
        items = "".join(
            f'<li style="color:{_COLORS.get(f.severity, "#000")}"><b>{esc(f.severity)}</b> '
            f"<code>{esc(f.where)}</code>: {esc(f.message)}</li>"
            for f in report.findings
        )
        findings = f'<ul style="margin:4px 0 6px 0;padding-left:20px">{items}</ul>'
    else:
        findings = (
            '<div style="color:#1e7b34;margin:4px 0">No problems: paste it into ChatGPT '
            "(Configure &gt; Actions &gt; Create new action &gt; Schema).</div>"
        )
    copy = (
        f"navigator.clipboard.writeText(document.getElementById('nbmcp-schema-{uid}').textContent)"
        ".then(() => { this.textContent = 'Copied'; })"
    )
    buttons = (
        f'<button type="button" onclick="{esc(copy)}">Copy</button> '
        f'<a download="{name}" href="data:{mime};base64,{data}">Download {name}</a>'
    )
    pre = (
        f'<pre id="nbmcp-schema-{uid}" style="max-height:24em;overflow:auto;border:1px solid #ddd;'
        f'padding:6px;margin-top:6px">{esc(text)}</pre>'
    )
    return f'<div class="nbmcp-schema">{head}{findings}{buttons}{pre}</div>'
