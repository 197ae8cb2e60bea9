"""What ``%mcp connect`` returns: every client's settings, as HTML with a copy button each, and as text.

:class:`ConnectView` wraps the dict of :func:`nbmcp.connect.connect_info`. In Jupyter it shows
one section per client (title, numbered steps, the snippet in a ``<pre>``, a Copy button);
everywhere else its repr is the same text ``nbmcp connect URL`` prints. The HTML is
self-contained: inline styles and an inline ``onclick`` (no CDN, no ``<script>`` that an
untrusted notebook would drop), copying with ``navigator.clipboard`` where the page allows
it and a hidden ``<textarea>`` with ``document.execCommand("copy")`` where it does not (plain
http, older browsers). No snippet holds a key, so neither does the saved output.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConnectView", "copy_script"]

_BOX = "max-height:20em;overflow:auto;border:1px solid #ddd;padding:6px;margin:4px 0 0 0;white-space:pre"


def copy_script(element_id: str) -> str:
    """The ``onclick`` JavaScript that copies the text of ``element_id`` and says so on the button."""
    return (
        f"var b=this,t=document.getElementById('{element_id}').textContent;"
        "function ok(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1500);}"
        "function old(){var a=document.createElement('textarea');a.value=t;"
        "a.style.position='fixed';a.style.opacity='0';document.body.appendChild(a);a.select();"
        "try{document.execCommand('copy');ok();}catch(e){b.textContent='Select it and copy';}"
        "document.body.removeChild(a);}"
        "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then(ok,old);}"
        "else{old();}"
    )


@dataclass
class ConnectView:
    """The connect settings of one server, keyed by client (as ``connect_info`` returns them).

    Args:
        info: ``{client: {"title", "snippet", "steps", "format", ...}}``.
        heading: One line above the sections, e.g. the server's name, URL and auth mode.
    """

    info: dict[str, dict[str, Any]]
    heading: str = ""
    _uid: str = field(default_factory=lambda: secrets.token_hex(4), repr=False)

    def __getitem__(self, client: str) -> dict[str, Any]:
        return self.info[client]

    def __repr__(self) -> str:
        from nbmcp.connect.text import describe  # imported when shown: %load_ext pays nothing

        return describe(self.info, self.heading).rstrip("\n")

    def _section(self, client: str, item: dict[str, Any]) -> str:
        esc = html.escape
        element = f"nbmcp-connect-{self._uid}-{client}"
        where = f" <small>&rarr; <code>{esc(str(item['file']))}</code></small>" if item.get("file") else ""
        docs = (
            f' <small><a href="{esc(str(item["docs"]))}" target="_blank" rel="noopener">docs</a></small>'
            if item.get("docs")
            else ""
        )
        steps = "".join(f"<li>{esc(str(step))}</li>" for step in item.get("steps", []))
        button = (
            f'<button type="button" class="nbmcp-copy" data-client="{esc(client)}" '
            f'onclick="{esc(copy_script(element))}">Copy</button>'
        )
        return (
            f'<section class="nbmcp-connect-client" data-client="{esc(client)}" style="margin:0 0 12px 0">'
            f"<div><b>{esc(str(item['title']))}</b> "
            f'<code style="color:#666">{esc(client)}</code>{where}{docs}</div>'
            f'<ol style="margin:4px 0;padding-left:22px">{steps}</ol>'
            f"{button}"
            f'<pre id="{element}" data-format="{esc(str(item.get("format", "text")))}" style="{_BOX}">'
            f"{esc(str(item['snippet']))}</pre>"
            "</section>"
        )

    def _repr_html_(self) -> str:
        head = f"<p><b>{html.escape(self.heading)}</b></p>" if self.heading else ""
        body = "".join(self._section(client, item) for client, item in self.info.items())
        return f'<div class="nbmcp-connect">{head}{body}</div>'
