"""The consent page: where the notebook's owner says yes (or no) to an OAuth client.

Plain server-rendered HTML, no script, readable on a phone. It shows the client's name as
what it is (a name the client chose itself), the host the browser will be sent back to in
large type (the one thing the owner can check), the scopes, and a form with one password
field, ``key``, for the owner key. The form carries the request's id and a CSRF token bound
to that request. The page cannot be framed (``frame-ancestors 'none'``, ``X-Frame-Options:
DENY``) and its CSP lets the form post only here and be redirected only to the client.
"""

from __future__ import annotations

import secrets
from html import escape
from urllib.parse import urlsplit

from nbmcp.auth.consent_request import Pending

__all__ = ["error_page", "page_headers", "render_consent"]

Header = tuple[bytes, bytes]

_STYLE = """
:root { color-scheme: light dark; --line: #8884; --accent: #2f6fdf; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 34rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.45rem; margin: .2rem 0 1rem; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; margin: 1.3rem 0 .35rem;
  opacity: .75; }
.box { border: 1px solid var(--line); border-radius: .6rem; padding: .8rem 1rem; margin: .6rem 0; }
.host { font-size: 1.6rem; font-weight: 700; word-break: break-all; margin: .1rem 0; }
.uri, .note, .hint { font-size: .85rem; opacity: .8; overflow-wrap: anywhere; }
.uri { word-break: break-all; }
ul { margin: .2rem 0; padding-left: 1.2rem; }
code { font-size: .95em; }
.error { border-color: #d33; background: #d331; }
.notice { border-color: #c90; background: #c901; }
label { display: block; font-weight: 600; margin: 1rem 0 .3rem; }
input[type=password] { width: 100%; font-size: 1.1rem; padding: .65rem .7rem; border-radius: .45rem;
  border: 1px solid var(--line); }
button { font-size: 1.05rem; padding: .7rem 1.2rem; border-radius: .45rem; border: 1px solid var(--line);
  margin-top: .8rem; cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); width: 100%; }
.row { display: flex; gap: .6rem; flex-wrap: wrap; }
.code { font: 700 1.3rem ui-monospace, monospace; letter-spacing: .08em; }
"""


def page_headers(nonce: str, redirect_uri: str | None = None) -> list[Header]:
    """The security headers of every page: no framing, no scripts, no caching, no referrer elsewhere."""
    form_action = "'self'"
    if redirect_uri:  # browsers apply form-action to the redirect that follows the POST
        parts = urlsplit(redirect_uri)
        form_action += f" {parts.scheme}://{parts.netloc}"
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        # same-origin, not no-referrer: with no-referrer a browser posts the form with
        # ``Origin: null``, which the Host/Origin guard rightly refuses.
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
        (b"pragma", b"no-cache"),
    ]


def _document(title: str, body: str, nonce: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{_STYLE}</style></head>'
        f"<body><main>{body}</main></body></html>\n"
    ).encode()


def _hidden(pending: Pending) -> str:
    return (
        f'<input type="hidden" name="request" value="{escape(pending.id)}">'
        f'<input type="hidden" name="csrf_token" value="{escape(pending.csrf)}">'
    )


def render_consent(
    pending: Pending,
    *,
    server_name: str,
    action: str,
    error: str | None = None,
    notice: str | None = None,
) -> tuple[bytes, list[Header]]:
    """The consent page for ``pending`` (its body and headers); ``error`` after a wrong key."""
    nonce = secrets.token_urlsafe(16)
    name = pending.client.name
    who = (
        f"A client that calls itself <strong>&ldquo;{escape(name)}&rdquo;</strong>"
        if name
        else "A client that gave no name"
    )
    scopes = (
        "<ul>" + "".join(f"<li><code>{escape(s)}</code></li>" for s in pending.scopes) + "</ul>"
        if pending.scopes
        else "<p>Call this server's tools (no particular scope asked for).</p>"
    )
    alerts = ""
    if error:
        alerts += f'<p class="box error" role="alert">{escape(error)}</p>'
    if notice:
        alerts += f'<p class="box notice" role="status">{escape(notice)}</p>'
    hidden = _hidden(pending)
    act = escape(action)
    body = f"""
<h1>Allow access to <q>{escape(server_name)}</q>?</h1>
<p>{who} wants to call the tools of this notebook's MCP server, as you.</p>
<p class="note">That name is the client's own claim: nbmcp cannot check it. Check where it sends you back.</p>
<h2>You will be sent back to</h2>
<div class="box"><p class="host">{escape(pending.redirect_host)}</p>
<p class="uri">{escape(pending.redirect_uri)}</p></div>
<p class="note">Approve only if you just connected this server from that site or app.</p>
<h2>Access asked for</h2>
<div class="box">{scopes}</div>
{alerts}
<form method="post" action="{act}">
{hidden}
<label for="key">Owner key</label>
<input id="key" type="password" name="key" autocomplete="current-password" required autofocus>
<p class="hint">The server's owner key: its API key, or the key <code>%mcp start --oauth</code> generated
(<code>server.access_key</code> in the notebook).</p>
<button class="primary" type="submit" name="action" value="approve">Approve</button>
</form>
<h2>Or approve in the notebook</h2>
<div class="box"><p>Run <code>%mcp approve <span class="code">{escape(pending.approval_code)}</span></code>
in the notebook, then continue here.</p>
<form method="post" action="{act}">{hidden}
<div class="row"><button type="submit" name="action" value="continue">Continue</button></div></form></div>
<form method="post" action="{act}">{hidden}
<button type="submit" name="action" value="deny">Deny</button></form>
"""
    return _document(f"Allow access to {server_name}?", body, nonce), page_headers(
        nonce, pending.redirect_uri
    )


def error_page(title: str, message: str) -> tuple[bytes, list[Header]]:
    """A page for an authorization request that may not be sent back to any client."""
    nonce = secrets.token_urlsafe(16)
    body = f'<h1>{escape(title)}</h1><p class="box error">{escape(message)}</p>'
    body += '<p class="note">Nothing was approved. Start again from the app you were connecting.</p>'
    return _document(title, body, nonce), page_headers(nonce)
