"""The fuzz run's consent-page requests: a real authorization request, then its form and code fuzzed.

Random bodies alone never get past the consent page's request token, so
:func:`consent_flow` does what a browser does (load the page for the registered client with
PKCE, post its form back, trade the code) with a few fields changed by Hypothesis at each
step. Every answer is < 500 (``Sender.exchange``); a code is traded for tokens at most once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from tests.fuzz_auth_doors import CLIENT, REDIRECT
from tests.fuzz_auth_kit import Req
from tests.oauth.consentkit import authorize_url, pkce, read_forms

if TYPE_CHECKING:
    from tests.fuzz_auth_sender import Sender

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def changed(base: dict[str, str], changes: list[tuple[str, str]], sender: Sender) -> dict[str, str]:
    out = dict(base)
    for name, value in changes:
        out[name] = sender.fill(value.encode()).decode()
    return out


def consent_flow(sender: Sender, req: Req) -> None:
    changes: dict[str, Any] = req.rpc
    verifier, challenge = pkce()
    start = authorize_url(sender.base, sender.fills[CLIENT], challenge)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start).query).items()}
    url = f"{sender.base}/authorize?{urlencode(changed(query, changes['authorize'], sender))}"
    headers = sender.creds[req.credential]
    page, data = sender.exchange("oauth", "GET", url, headers, None)
    forms = [form for form in read_forms(data.decode("utf-8", "replace")).forms if form.passwords]
    if page.status_code != 200 or len(forms) != 1:
        return
    form = forms[0]
    fields = {**form.fields, "key": sender.fill(changes["key"].encode()).decode(), "action": "approve"}
    fields = changed(fields, changes["form"], sender)
    target = urljoin(url, form.action)
    posted, _ = sender.exchange("oauth", "POST", target, {**headers, **FORM}, urlencode(fields).encode())
    location = posted.headers.get("location", "")
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    if posted.status_code not in (302, 303) or not code:
        return
    target_parts = urlsplit(location)  # only ever to the one (loopback) redirect URI the client registered
    assert (target_parts.hostname, target_parts.path) == ("127.0.0.1", "/callback"), location
    trade = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": sender.fills[CLIENT],
        "code_verifier": verifier,
    }
    body = urlencode(changed(trade, changes["token"], sender)).encode()
    traded = 0
    for _ in range(2 if changes["twice"] else 1):
        answer, data = sender.exchange("oauth", "POST", f"{sender.base}/token", {**headers, **FORM}, body)
        if answer.status_code == 200:
            traded += 1
            assert "access_token" in json.loads(data), data[:300]
    assert traded <= 1, "a code was traded twice"
