"""What ``%mcp status``, ``%mcp tools`` and ``%mcp call`` show: plain text and an HTML table.

Each is a small object with ``__repr__`` (terminals, logs, ``nbmcp serve``) and
``_repr_html_`` (Jupyter), returned by the magic so ``x = %mcp tools`` keeps it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["CallResult", "Status", "Table", "connection_lines", "tool_rows"]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Table:
    """Rows under a header."""

    header: list[str]
    rows: list[list[str]]
    empty: str = "(none)"

    def __repr__(self) -> str:
        if not self.rows:
            return self.empty
        widths = [max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in self.rows
        ]
        head = "  ".join(h.ljust(w) for h, w in zip(self.header, widths, strict=True)).rstrip()
        return "\n".join([head, "  ".join("-" * w for w in widths), *lines])

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{html.escape(self.empty)}</p>"
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class Status:
    """``%mcp status``: one fact a line."""

    facts: list[tuple[str, str]]
    log: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        width = max(len(k) for k, _ in self.facts)
        lines = [f"{k.ljust(width)}  {v}" for k, v in self.facts]
        if self.log:
            lines += ["", "server log (newest last):", *(f"  {line}" for line in self.log)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
            for k, v in self.facts
        )
        log = ""
        if self.log:
            log = "<details><summary>server log</summary><pre>{}</pre></details>".format(
                html.escape("\n".join(self.log))
            )
        return f"<table>{rows}</table>{log}"


@dataclass
class CallResult:
    """``%mcp call``: the MCP result of one call, and what the tool printed meanwhile."""

    tool: str
    result: dict[str, Any]
    output: str = ""
    seconds: float = 0.0

    @property
    def is_error(self) -> bool:
        """Whether the tool failed (``isError``)."""
        return bool(self.result.get("isError"))

    @property
    def structured(self) -> Any:
        """``structuredContent``, when the result has it."""
        return self.result.get("structuredContent")

    @property
    def text(self) -> str:
        """The text blocks joined (images and other blocks named in brackets)."""
        parts = []
        for block in self.result.get("content", []):
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            else:
                parts.append(f"[{block.get('type')} {block.get('mimeType', '')}]".replace(" ]", "]"))
        return "\n".join(parts)

    def __repr__(self) -> str:
        state = "error" if self.is_error else "ok"
        lines = [f"{self.tool}: {state} in {self.seconds * 1000:.0f} ms"]
        if self.structured is not None:
            lines.append(orjson.dumps(self.structured, option=orjson.OPT_INDENT_2).decode())
        elif self.text:
            lines.append(self.text)
        if self.output:
            lines += ["printed:", *(f"  {line}" for line in self.output.rstrip("\n").splitlines())]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        color = "#b00020" if self.is_error else "#0a7d32"
        state = "error" if self.is_error else "ok"
        parts = [
            f"<div><b>{html.escape(self.tool)}</b> <span style='color:{color}'>{state}</span> "
            f"<small>{self.seconds * 1000:.0f} ms</small></div>"
        ]
        structured = self.structured
        if structured is not None:
            pretty = orjson.dumps(structured, option=orjson.OPT_INDENT_2).decode()
            parts.append(f"<pre>{html.escape(pretty)}</pre>")
        for block in self.result.get("content", []):
            kind = block.get("type")
            if kind == "text" and structured is None:
                parts.append(f"<pre>{html.escape(str(block.get('text', '')))}</pre>")
            elif kind == "text":
                continue  # the same data as the structured content above
            elif kind == "image":
                mime = html.escape(str(block.get("mimeType", "image/png")))
                data = html.escape(str(block.get("data", "")))
                parts.append(f"<img src='data:{mime};base64,{data}' style='max-width:480px'/>")
            else:
                parts.append(f"<pre>[{html.escape(str(kind))}]</pre>")
        if self.output:
            parts.append(
                f"<details><summary>printed</summary><pre>{html.escape(self.output)}</pre></details>"
            )
        return "".join(parts)


def connection_lines(name: str, url: str, api_key: bool) -> list[str]:
    """How to reach a server at ``url`` from the usual clients."""
    header = " -H 'X-API-Key: <your key>'" if api_key else ""
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    return [
        f"  Claude Code:  claude mcp add --transport http {name} {url}{header.replace('-H', '--header')}",
        f"  Inspector:    npx @modelcontextprotocol/inspector --cli {url} --method tools/list",
        f"  curl:         curl -s {url} -H 'Content-Type: application/json'{header} -d '{body}'",
    ]


def tool_rows(tools: dict[str, Any], stats: dict[str, Any], flags: dict[str, str]) -> Table:
    """The ``%mcp tools`` table."""
    rows = []
    for name, tool in tools.items():
        stat = stats.get(name)
        calls = f"{stat.calls}" if stat else "0"
        errors = f"{stat.errors}" if stat else "0"
        mean = f"{stat.mean_seconds * 1000:.1f}" if stat and stat.calls else "-"
        params = ", ".join(tool.args.names)
        rows.append(
            [
                name,
                params,
                flags.get(name, tool.kind.value),
                calls,
                errors,
                mean,
                _cut(tool.description or "", 60),
            ]
        )
    return Table(
        ["tool", "arguments", "runs", "calls", "errors", "mean ms", "description"],
        rows,
        empty="no tools yet: put %%mcp_tool at the top of a cell that defines a function",
    )
