"""A real access token from nbmcp's built-in authorization server, the way a client gets one.

``run.py --only auth`` needs a JWT for its load; this goes through the whole flow against a
running ``nbmcp serve --oauth`` (standard library only): dynamic client registration
(RFC 7591), the consent page read like a browser reads it (its hidden fields, the one
password field ``key``) and posted with the owner key, the redirect's ``code`` traded at
``/token`` with the PKCE verifier (S256). The token is never printed.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import Any

REDIRECT = "http://127.0.0.1:47123/callback"
TIMEOUT = 10.0

__all__ = ["obtain_token"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the consent answer's Location is read, not followed


class _Forms(HTMLParser):
    """The page's forms: action, hidden fields, password field names, named buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "passwords": [], "buttons": {}})
        elif tag == "input" and self.forms:
            if a.get("type") == "password":
                self.forms[-1]["passwords"].append(a.get("name", ""))
            elif a.get("type") == "hidden":
                self.forms[-1]["fields"][a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"][a["name"]] = a.get("value", "")


def _call(opener: urllib.request.OpenerDirector, req: urllib.request.Request) -> tuple[int, Any, str]:
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode(errors="replace")


def obtain_token(base: str, owner_key: str) -> str:
    """An access token for ``base + "/mcp"``: register, consent with ``owner_key``, trade the code.

    Raises:
        RuntimeError: a step answered other than the flow expects (the status, never a secret).
    """
    opener = urllib.request.build_opener(
        _NoRedirect,
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        urllib.request.ProxyHandler({}),
    )
    body = json.dumps({"redirect_uris": [REDIRECT], "client_name": "nbmcp bench"}).encode()
    status, _, text = _call(
        opener,
        urllib.request.Request(f"{base}/register", body, {"Content-Type": "application/json"}, method="POST"),
    )
    if status != 201:
        raise RuntimeError(f"/register answered {status}: {text[:200]}")
    client_id = json.loads(text)["client_id"]

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "bench",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    authorize = f"{base}/authorize?{query}"
    status, _, page = _call(opener, urllib.request.Request(authorize))
    if status != 200:
        raise RuntimeError(f"/authorize answered {status}: {page[:200]}")
    reader = _Forms()
    reader.feed(page)
    forms = [f for f in reader.forms if f["passwords"] == ["key"]]
    if len(forms) != 1:
        raise RuntimeError("the consent page has no single form with a password field 'key'")
    form = forms[0]
    data = {**form["fields"], "key": owner_key, "action": form["buttons"].get("action", "approve")}
    status, headers, page = _call(
        opener,
        urllib.request.Request(
            urllib.parse.urljoin(authorize, form["action"]),
            urllib.parse.urlencode(data).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        ),
    )
    location = headers.get("Location") if headers is not None else None
    if status not in (302, 303) or not location:
        raise RuntimeError(f"the consent form answered {status} without a redirect: {page[:200]}")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if params.get("state") != ["bench"] or "code" not in params:
        raise RuntimeError("the consent redirect carries no code for our state")

    form_body = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier,
    }).encode()  # fmt: skip
    status, _, text = _call(
        opener,
        urllib.request.Request(
            f"{base}/token", form_body, {"Content-Type": "application/x-www-form-urlencoded"}, method="POST"
        ),
    )
    if status != 200:
        raise RuntimeError(f"/token answered {status}: {text[:200]}")
    answer = json.loads(text)
    if answer.get("token_type", "").lower() != "bearer" or not answer.get("access_token"):
        raise RuntimeError("/token gave no bearer access token")
    return str(answer["access_token"])
